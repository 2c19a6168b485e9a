"""Reads: segments, a live preview of a filter, members (keyset paged), size over time,
and the CSV export of members, streamed in batches."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Identity, Person, Tag, person_tags
from tenure.customers.queries import Page, person_list_dicts, person_list_query
from tenure.db.paging import decode_cursor, encode_cursor
from tenure.errors import NotFound
from tenure.exports.streaming import escape_cell
from tenure.segments.builtins import BUILTINS
from tenure.segments.compiler import compile_filter, context_for
from tenure.segments.models import Segment, SegmentMember, SegmentSnapshot

SAMPLE_SIZE = 20
# 2,000 members per batch: one keyset query and a few MB, as the people export.
EXPORT_BATCH = 2_000
EXPORT_HEADER = [
    "person_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "organization",
    "tags",
    "entered_at",
]


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


def list_segments(session: Session) -> list[Segment]:
    """The workspace's own segments by name, then the built-ins in their order (the RFM
    segments from best to worst, then the value tiers)."""
    rank = {builtin.key: index for index, builtin in enumerate(BUILTINS)}
    segments = session.scalars(select(Segment).order_by(Segment.name, Segment.id)).all()
    return sorted(
        segments, key=lambda s: (s.builtin_key is not None, rank.get(s.builtin_key or "", 0))
    )


def segment_dict(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "filter": segment.filter,
        "builtin": segment.builtin_key is not None,
        "builtin_key": segment.builtin_key,
        "member_count": segment.member_count,
        "refreshed_at": segment.refreshed_at,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def preview(
    session: Session,
    *,
    filter: str,
    currency: str,
    as_of: datetime | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> dict[str, Any]:
    """Who a filter selects now, without saving anything: the count and a sample."""
    compiled = compile_filter(filter, context_for(session, currency=currency, as_of=as_of))
    connection = session.connection()
    count = connection.execute(compiled.count()).scalar_one()
    ids = compiled.person_ids().order_by(Person.id).limit(sample_size).subquery()
    rows = connection.execute(
        person_list_query().where(Person.id.in_(select(ids.c.id))).order_by(Person.id)
    ).all()
    return {"count": int(count), "as_of": compiled.now, "sample": person_list_dicts(session, rows)}


def list_members(
    session: Session, segment_id: int, *, cursor: str | None = None, limit: int = 50
) -> Page:
    """Members in person id order; the cursor is the last id seen (primary key range scan)."""
    get_segment(session, segment_id)
    query: Select[Any] = (
        person_list_query()
        .add_columns(SegmentMember.entered_at)
        .join(SegmentMember, SegmentMember.person_id == Person.id)
        .where(SegmentMember.segment_id == segment_id)
        .order_by(SegmentMember.person_id)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(SegmentMember.person_id > decode_cursor(cursor).id)
    rows = session.connection().execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = person_list_dicts(session, rows)
    for item, row in zip(items, rows, strict=True):
        item["entered_at"] = row.entered_at
    next_cursor = encode_cursor(rows[-1].id, rows[-1].id) if more else None
    return Page(items=items, next_cursor=next_cursor)


def snapshots(session: Session, segment_id: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Size after each refresh or list change, oldest first (the last ``limit``)."""
    get_segment(session, segment_id)
    rows = session.execute(
        select(
            SegmentSnapshot.taken_at,
            SegmentSnapshot.members,
            SegmentSnapshot.entered,
            SegmentSnapshot.exited,
        )
        .where(SegmentSnapshot.segment_id == segment_id)
        .order_by(SegmentSnapshot.taken_at.desc(), SegmentSnapshot.id.desc())
        .limit(limit)
    ).all()
    return [row._asdict() for row in reversed(rows)]


def _export_batch(session: Session, segment_id: int, after: int) -> list[list[Any]]:
    members = (
        select(SegmentMember.person_id, SegmentMember.entered_at)
        .where(SegmentMember.segment_id == segment_id, SegmentMember.person_id > after)
        .order_by(SegmentMember.person_id)
        .limit(EXPORT_BATCH)
        .subquery()
    )
    rows = session.execute(
        person_list_query()
        .add_columns(members.c.entered_at)
        .join(members, members.c.person_id == Person.id)
        .order_by(Person.id)
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    emails: dict[int, str] = {}
    phones: dict[int, str] = {}
    for person_id, kind, value in session.execute(
        select(Identity.person_id, Identity.kind, Identity.value)
        .where(Identity.person_id.in_(ids), Identity.kind.in_(("email", "phone")))
        .order_by(Identity.person_id, Identity.is_primary.desc(), Identity.id)
    ):
        # The primary identity (sorted first), or the oldest.
        (emails if kind == "email" else phones).setdefault(person_id, value)
    tags: dict[int, list[str]] = {}
    for person_id, name in session.execute(
        select(person_tags.c.person_id, Tag.name)
        .join(Tag, Tag.id == person_tags.c.tag_id)
        .where(person_tags.c.person_id.in_(ids))
        .order_by(Tag.name)
    ):
        tags.setdefault(person_id, []).append(name)
    return [
        [
            escape_cell(value)
            for value in (
                row.id,
                row.first_name,
                row.last_name,
                emails.get(row.id, ""),
                phones.get(row.id, ""),
                row.organization_name or "",
                ";".join(tags.get(row.id, [])),
                row.entered_at.isoformat(),
            )
        ]
        for row in rows
    ]


def export_members_csv(factory: sessionmaker[Session], segment_id: int) -> Iterator[bytes]:
    """The members as CSV, batch by batch; each batch in its own short transaction so
    that a slow download holds no snapshot open (as ``exports.streaming`` does)."""
    with factory() as session:
        get_segment(session, segment_id)

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER)
        after = 0
        while True:
            with factory() as session:
                batch = _export_batch(session, segment_id, after)
            if not batch:
                break
            writer.writerows(batch)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            after = int(batch[-1][0])
        if buffer.getvalue():
            yield buffer.getvalue().encode()

    return chunks()
