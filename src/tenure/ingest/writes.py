"""Bulk writes of one chunk of imported people (db.bulk.load_rows: COPY on PostgreSQL,
the driver's executemany on SQLite).

Measured on SQLite: ORM unit-of-work inserts cost ~35 us a row against ~2 us through the
driver's executemany, and an import writes four or five rows (person, identities, tags,
link, audit) per contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from tenure.customers.models import ConsentRecord, Identity, Person, person_tags
from tenure.customers.summaries import mark_stale
from tenure.customers.tags import get_or_create_tags
from tenure.db.bulk import load_rows
from tenure.identity.models import AuditEntry
from tenure.ingest.models import people_imports
from tenure.workspace import clock

if TYPE_CHECKING:
    from tenure.ingest.person_state import PersonState

T = TypeVar("T")

# SQLite allows 32,766 bound parameters per statement; 900 keeps IN lists well under it.
IN_BATCH = 900

PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "job_title",
    "organization_id",
    "attributes",
    "search_text",
    "created_at",
    "updated_at",
)
IDENTITY_COLUMNS = (
    "person_id",
    "kind",
    "namespace",
    "value",
    "original",
    "is_primary",
    "created_at",
)
CONSENT_COLUMNS = ("person_id", "channel", "purpose", "status", "source", "recorded_at")
AUDIT_COLUMNS = ("at", "actor_id", "action", "entity_type", "entity_id", "changes")


def table_of(model: Any) -> Table:
    """The Core table of a mapped class (typed: ``__table__`` is a bare FromClause)."""
    return cast(Table, model.__table__)


def in_batches(values: Sequence[T], size: int = IN_BATCH) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def search_text(state: PersonState) -> str:
    parts = [state.first_name, state.last_name, *(key[2] for key in state.identities)]
    return " ".join(p for p in parts if p).lower()


class PersonWriter:
    def __init__(self, *, import_id: int | None, actor_id: int | None) -> None:
        self.import_id = import_id
        self.actor_id = actor_id
        self._tag_ids: dict[str, int] = {}

    def write(
        self, session: Session, *, new_people: list[PersonState], changed: list[PersonState]
    ) -> None:
        connection = session.connection()
        now = clock.now(session)  # people's "customer since"
        rows = [
            (
                s.first_name[:200],
                s.last_name[:200],
                s.job_title[:200] if s.job_title else None,
                s.organization_id,
                s.attributes,
                search_text(s),
                now,
                now,
            )
            for s in new_people
        ]
        ids = load_rows(connection, table_of(Person), PERSON_COLUMNS, rows, return_ids=True)
        for state, person_id in zip(new_people, ids, strict=True):
            state.person_id = person_id
        identity_rows: list[tuple[Any, ...]] = []
        for state in new_people:
            assert state.person_id is not None
            identity_rows.extend(
                (state.person_id, *key, original, primary, now)
                for key, (original, primary) in state.identities.items()
            )
        for state in changed:
            identity_rows.extend(
                (state.person_id, *key, original, state.identities[key][1], now)
                for key, original in state.new_identities
            )
        load_rows(connection, table_of(Identity), IDENTITY_COLUMNS, identity_rows)
        if changed:
            session.execute(
                update(table_of(Person)).where(Person.id == bindparam("pid")),
                [
                    {
                        "pid": s.person_id,
                        "first_name": s.first_name[:200],
                        "last_name": s.last_name[:200],
                        "job_title": s.job_title[:200] if s.job_title else None,
                        "organization_id": s.organization_id,
                        "attributes": s.attributes,
                        "search_text": search_text(s),
                        "updated_at": now,
                    }
                    for s in changed
                ],
            )
        everyone = [*new_people, *changed]
        self._write_tags(session, everyone)
        mark_stale(session, [s.person_id for s in everyone])
        consent_rows = [
            (s.person_id, channel, purpose, status, source, now)
            for s in everyone
            for channel, purpose, status, source in s.new_consents
        ]
        load_rows(connection, table_of(ConsentRecord), CONSENT_COLUMNS, consent_rows)
        if self.import_id is not None:
            # A person an earlier chunk of this import created or updated is linked already.
            linked: set[int] = set()
            for batch in in_batches([s.person_id for s in changed]):
                linked.update(
                    session.scalars(
                        select(people_imports.c.person_id).where(
                            people_imports.c.import_id == self.import_id,
                            people_imports.c.person_id.in_(batch),
                        )
                    )
                )
            load_rows(
                connection,
                people_imports,
                ("person_id", "import_id", "action"),
                [
                    (s.person_id, self.import_id, s.action)
                    for s in everyone
                    if s.person_id not in linked
                ],
            )
        # Creations are described by the import record, its file and the people_imports
        # link; updates overwrite values, so each keeps its before/after in the audit log.
        audit_rows = [
            (now, self.actor_id, "update", "person", str(s.person_id), s.changes) for s in changed
        ]
        load_rows(connection, table_of(AuditEntry), AUDIT_COLUMNS, audit_rows)

    def _write_tags(self, session: Session, states: list[PersonState]) -> None:
        names = sorted({t for s in states for t in s.new_tags} - self._tag_ids.keys())
        if names:
            for tag in get_or_create_tags(session, names):
                self._tag_ids[tag.name] = tag.id
        rows = [(s.person_id, self._tag_ids[t]) for s in states for t in dict.fromkeys(s.new_tags)]
        load_rows(session.connection(), person_tags, ("person_id", "tag_id"), rows)

    def forget_uncommitted(self) -> None:
        self._tag_ids.clear()
