"""Writes: create, update and delete segments, edit static lists, refresh memberships.

Each function works inside the caller's transaction (the API commits once per request);
:func:`refresh_all_segments` is the exception: it opens one transaction per segment, so
that a long run holds no lock for long and one broken filter does not undo the others.
It is what ``tenure segments refresh`` runs and what automation schedules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Person
from tenure.db.dialect import member_of
from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import audit_created, audit_deleted, diff_fields, record_audit
from tenure.identity.permissions import Actor, authorize
from tenure.segments import membership
from tenure.segments.builtins import ensure_builtin_segments
from tenure.segments.compiler import CompiledFilter, compile_filter, context_for
from tenure.segments.membership import Change
from tenure.segments.models import Segment, SegmentKind
from tenure.segments.schemas import SegmentCreate, SegmentUpdate
from tenure.segments.syntax import FilterError
from tenure.workspace import clock


def _segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


def _check_name(session: Session, name: str, segment_id: int | None = None) -> None:
    query = select(Segment.id).where(Segment.name == name)
    if segment_id is not None:
        query = query.where(Segment.id != segment_id)
    if session.scalar(query) is not None:
        raise Conflict(f"a segment named {name!r} exists", field="name")


def ensure_builtins(session: Session) -> list[Segment]:
    """Create the built-in segments this workspace lacks, committed; the ones created.
    ``tenure init`` creates them; the segment list calls this first on a workspace made
    otherwise, so that its read never leaves them uncommitted."""
    created = ensure_builtin_segments(session)
    if created:
        session.commit()
    return created


def compile_for(
    session: Session,
    text: str,
    *,
    currency: str,
    as_of: datetime | None = None,
    segment_name: str | None = None,
) -> CompiledFilter:
    """Compile ``text`` for ``session``'s database; check the segments it names exist."""
    compiled = compile_filter(text, context_for(session, currency=currency, as_of=as_of))
    if compiled.segment_names:
        known = set(session.scalars(select(Segment.name)))
        for name, position in compiled.segment_names.items():
            if name == segment_name:
                raise FilterError(position, "a segment cannot be defined by its own members")
            if name not in known:
                raise FilterError(position, f"there is no segment named {name!r}")
    return compiled


def create_segment(
    *,
    session: Session,
    data: SegmentCreate,
    actor: Actor | None,
    currency: str,
    as_of: datetime | None = None,
) -> tuple[Segment, Change]:
    """Create a segment and compute its first members (a dynamic segment's filter as of
    ``as_of``, by default the evaluation time; a static list's ``person_ids``)."""
    actor_id = authorize(actor)
    _check_name(session, data.name)
    compiled = None
    if data.kind == SegmentKind.dynamic:
        if not data.filter or not data.filter.strip():
            raise InvalidInput("filter", "a dynamic segment needs a filter")
        if data.person_ids:
            raise InvalidInput("person_ids", "a dynamic segment's members follow its filter")
        compiled = compile_for(
            session, data.filter, currency=currency, as_of=as_of, segment_name=data.name
        )
    elif data.filter:
        raise InvalidInput("filter", "a static list has no filter; give person_ids")
    now = utcnow()
    segment = Segment(
        name=data.name,
        description=data.description,
        kind=data.kind,
        filter=data.filter if compiled else None,
        member_count=0,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    audit_created(
        session=session,
        actor_id=actor_id,
        entity_type="segment",
        entity_id=segment.id,
        fields={"name": data.name, "kind": data.kind, "filter": segment.filter},
    )
    if compiled is not None:
        change = membership.replace_members(
            session, segment, compiled.person_ids(), as_of=compiled.now
        )
    else:
        _check_people(session, data.person_ids, "person_ids")
        change = membership.add_members(
            session, segment, _people(session, data.person_ids), as_of=clock.now(session)
        )
    session.refresh(segment)
    session.commit()
    return segment, change


def update_segment(
    *,
    session: Session,
    segment_id: int,
    data: SegmentUpdate,
    actor: Actor | None,
    currency: str,
) -> tuple[Segment, Change | None]:
    """Rename, describe or refilter a segment; a new filter is applied at once."""
    actor_id = authorize(actor)
    segment = _segment(session, segment_id)
    if segment.builtin_key:
        raise Conflict("built-in segments cannot be changed", field="name")
    before = {"name": segment.name, "description": segment.description, "filter": segment.filter}
    name = data.name if data.name is not None else segment.name
    if data.name is not None:
        _check_name(session, data.name, segment.id)
    compiled = None
    if data.filter is not None and data.filter != segment.filter:
        if segment.kind == SegmentKind.static:
            raise InvalidInput("filter", "a static list has no filter")
        compiled = compile_for(session, data.filter, currency=currency, segment_name=name)
        segment.filter = data.filter
    segment.name = name
    if data.description is not None:
        segment.description = data.description
    after = {"name": segment.name, "description": segment.description, "filter": segment.filter}
    changes = diff_fields(before, after)
    if not changes:
        return segment, None
    segment.updated_at = utcnow()
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="update",
        entity_type="segment",
        entity_id=segment.id,
        changes=changes,
    )
    change = None
    if compiled is not None:
        change = membership.replace_members(
            session, segment, compiled.person_ids(), as_of=compiled.now
        )
        session.refresh(segment)
    session.commit()
    return segment, change


def delete_segment(*, session: Session, segment_id: int, actor: Actor | None) -> None:
    """Delete a segment with its members and history (no exit events: nobody left it)."""
    actor_id = authorize(actor)
    segment = _segment(session, segment_id)
    if segment.builtin_key:
        raise Conflict("built-in segments cannot be deleted")
    audit_deleted(
        session=session,
        actor_id=actor_id,
        entity_type="segment",
        entity_id=segment.id,
        fields={"name": segment.name, "filter": segment.filter},
    )
    session.execute(delete(Segment).where(Segment.id == segment.id))
    session.expunge(segment)
    session.commit()


def _people(session: Session, person_ids: Sequence[int]) -> Any:
    connection = session.connection()
    return select(Person.id.label("person_id")).where(
        member_of(connection, Person.id, sorted(set(person_ids)))
    )


def _check_people(session: Session, person_ids: Sequence[int], field: str) -> None:
    if not person_ids:
        return
    found = set(session.scalars(_people(session, person_ids)))
    missing = sorted(set(person_ids) - found)
    if missing:
        shown = ", ".join(str(i) for i in missing[:10])
        raise InvalidInput(field, f"no person with id {shown}")


def change_members(
    *,
    session: Session,
    segment_id: int,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
    actor: Actor | None,
) -> Change:
    """Add people to and remove people from a static list."""
    actor_id = authorize(actor)
    segment = _segment(session, segment_id)
    if segment.kind != SegmentKind.static:
        raise Conflict("a dynamic segment's members follow its filter; refresh it instead")
    overlap = sorted(set(add) & set(remove))
    if overlap:
        raise InvalidInput("remove", f"person {overlap[0]} is also in add")
    _check_people(session, add, "add")
    now = clock.now(session)
    entered = exited = 0
    change = None
    if remove:
        change = membership.remove_members(session, segment, _people(session, remove), as_of=now)
        exited = change.exited
    if add:
        change = membership.add_members(session, segment, _people(session, add), as_of=now)
        entered = change.entered
    if change is None:
        return Change(segment.id, segment.name, segment.member_count, 0, 0, now)
    if entered or exited:
        record_audit(
            session=session,
            actor_id=actor_id,
            action="update",
            entity_type="segment",
            entity_id=segment.id,
            changes={
                "members": {"before": change.members - entered + exited, "after": change.members}
            },
        )
    session.refresh(segment)
    session.commit()
    return Change(segment.id, segment.name, change.members, entered, exited, now)


def refresh_segment(
    *,
    session: Session,
    segment_id: int,
    currency: str,
    as_of: datetime | None = None,
    actor: Actor | None = None,
) -> Change:
    """Bring a dynamic segment's members up to date; entries and exits become events."""
    actor_id = authorize(actor)
    segment = _segment(session, segment_id)
    if segment.kind != SegmentKind.dynamic or not segment.filter:
        raise Conflict("a static list changes only when people are added or removed")
    compiled = compile_for(
        session, segment.filter, currency=currency, as_of=as_of, segment_name=segment.name
    )
    before = segment.member_count
    change = membership.replace_members(session, segment, compiled.person_ids(), as_of=compiled.now)
    if change.entered or change.exited:
        record_audit(
            session=session,
            actor_id=actor_id,
            action="refresh",
            entity_type="segment",
            entity_id=segment.id,
            changes={
                "members": {"before": before, "after": change.members},
                "entered": {"before": None, "after": change.entered},
                "exited": {"before": None, "after": change.exited},
            },
        )
    session.refresh(segment)
    session.commit()
    return change


def refresh_all_segments(
    *,
    session_factory: sessionmaker[Session],
    currency: str,
    as_of: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[Change], dict[str, str]]:
    """Refresh every dynamic segment, one transaction each, segments that others name
    first. Returns the changes and, by segment name, the reasons of those that failed.

    All segments are evaluated at one time (``as_of``, else the evaluation time when the
    run starts), so that "last 90 days" means the same days for each of them.
    """
    with unit_of_work(session_factory) as session:
        ensure_builtin_segments(session)
        when = context_for(session, currency=currency, as_of=as_of).now
        order = _refresh_order(session, currency=currency, as_of=when)
    changes: list[Change] = []
    failed: dict[str, str] = {}
    for index, (segment_id, name) in enumerate(order):
        if progress is not None:
            progress(name, index, len(order))
        try:
            with unit_of_work(session_factory) as session:
                changes.append(
                    refresh_segment(
                        session=session, segment_id=segment_id, currency=currency, as_of=when
                    )
                )
        except (InvalidInput, Conflict, NotFound) as error:
            failed[name] = str(error)
    return changes, failed


def _refresh_order(session: Session, *, currency: str, as_of: datetime) -> list[tuple[int, str]]:
    """Dynamic segments, each after the segments its filter names (depth-first order)."""
    rows = session.execute(
        select(Segment.id, Segment.name, Segment.filter)
        .where(Segment.kind == SegmentKind.dynamic.value)
        .order_by(Segment.id)
    ).all()
    by_name = {row.name: row for row in rows}
    ordered: list[tuple[int, str]] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            # Filters read stored members, so a cycle is harmless: visit each once.
            return
        visiting.add(name)
        row = by_name[name]
        try:
            ctx = context_for(session, currency=currency, as_of=as_of.astimezone(UTC))
            named = compile_filter(row.filter or "", ctx).segment_names
        except InvalidInput:
            named = {}
        for other in named:
            if other in by_name:
                visit(other)
        visiting.discard(name)
        done.add(name)
        ordered.append((row.id, row.name))

    for row in rows:
        visit(row.name)
    return ordered
