"""Finding (or creating) the organization a person row names, by source id or by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Organization
from tenure.db.bulk import load_rows
from tenure.db.dialect import member_of
from tenure.ingest.drafts import PersonDraft
from tenure.ingest.models import OrganizationExternalId, organizations_imports
from tenure.ingest.writes import table_of
from tenure.workspace import clock

ORGANIZATION_COLUMNS = ("name", "attributes", "created_at", "updated_at")


class OrganizationLinks:
    """Organization ids per row; names are matched case-insensitively and cached, since an
    import of a million contacts names the same few thousand companies over and over.

    A name nobody holds creates the organization. A source-system reference (Salesforce
    ``AccountId``) that matches no imported account links nothing: import accounts first.
    """

    def __init__(self, *, import_id: int | None) -> None:
        self.import_id = import_id
        self.created = 0
        self._by_name: dict[str, int] = {}
        self._by_ref: dict[tuple[str, str], int | None] = {}
        self._next_virtual = -1
        # Ids the last resolve() created: nobody stored can work there yet.
        self.created_by_last_chunk: set[int] = set()

    def resolve(
        self, session: Session, drafts: Sequence[PersonDraft], *, dry_run: bool
    ) -> dict[int, int | None]:
        self.created_by_last_chunk = set()
        self._load_refs(session, {d.organization_ref for d in drafts if d.organization_ref})
        names = {d.organization.strip() for d in drafts if d.organization}
        self._load_names(session, names, dry_run=dry_run)
        found: dict[int, int | None] = {}
        for draft in drafts:
            org_id = self._by_ref.get(draft.organization_ref) if draft.organization_ref else None
            if org_id is None and draft.organization:
                org_id = self._by_name.get(draft.organization.strip().casefold())
            found[draft.line] = org_id
        return found

    def _load_refs(self, session: Session, refs: set[tuple[str, str] | None]) -> None:
        missing = sorted(r for r in refs if r is not None and r not in self._by_ref)
        if not missing:
            return
        values = sorted({value for _, value in missing})
        for namespace, value, org_id in session.execute(
            select(
                OrganizationExternalId.namespace,
                OrganizationExternalId.value,
                OrganizationExternalId.organization_id,
            ).where(member_of(session.connection(), OrganizationExternalId.value, values))
        ):
            self._by_ref[(namespace, value)] = org_id
        for ref in missing:
            self._by_ref.setdefault(ref, None)

    def _load_names(self, session: Session, names: set[str], *, dry_run: bool) -> None:
        missing = {n.casefold(): n for n in names if n.casefold() not in self._by_name}
        if not missing:
            return
        lowered_name = func.lower(Organization.name)
        rows = session.execute(
            select(lowered_name, Organization.id)
            .where(member_of(session.connection(), lowered_name, sorted(missing)))
            .order_by(Organization.id.desc())
        )
        for lowered, org_id in rows:
            self._by_name[lowered] = org_id  # descending: the oldest wins
        unknown = [missing[k] for k in sorted(missing) if k not in self._by_name]
        if not unknown:
            return
        if dry_run:
            for name in unknown:
                self._by_name[name.casefold()] = self._next_virtual
                self._next_virtual -= 1
            return
        now = clock.now(session)  # the organizations' "since", on the workspace clock
        new_rows: list[tuple[Any, ...]] = [(name[:300], {}, now, now) for name in unknown]
        ids = load_rows(
            session.connection(),
            table_of(Organization),
            ORGANIZATION_COLUMNS,
            new_rows,
            return_ids=True,
        )
        self.created += len(ids)
        self.created_by_last_chunk.update(ids)
        for name, org_id in zip(unknown, ids, strict=True):
            self._by_name[name.casefold()] = org_id
        if self.import_id is not None:
            load_rows(
                session.connection(),
                organizations_imports,
                ("organization_id", "import_id", "action"),
                [(org_id, self.import_id, "created") for org_id in ids],
            )

    def forget_uncommitted(self) -> None:
        """Drop cached ids after a rolled-back chunk: the organizations it created are gone."""
        self._by_name = {k: v for k, v in self._by_name.items() if v < 0}
        self._by_ref.clear()
