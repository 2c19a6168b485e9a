"""Exports of people and events as CSV, JSON lines or Parquet, streamed in batches.

Rows are read in keyset batches (``id > last ORDER BY id LIMIT n``) through
``customers.queries.filter_people``, so an export filters exactly like the API list and
memory stays flat however many rows there are: one batch of people with their
identities, tags and consents is held at a time, and each format is written batch by
batch (Parquet as one row group per batch). Keyset batches rather than one server-side
cursor because a streamed HTTP response is read at the client's pace: short reads do not
hold a transaction (and, on SQLite, a WAL snapshot) open for the whole download.

CSV flattening: identities become ``emails``, ``phones``, ``external_ids``
(``system:id``) and ``social`` columns joined with ``;``, tags likewise, consents as
``channel.purpose=status``, and each declared attribute its own ``attr.<key>`` column.
Text cells that would start a formula (``= + - @``, tab, carriage return) get a leading
single quote, per the OWASP CSV injection guidance. E.164 phones (a ``+`` and digits only,
several joined with ``;``) are exported as they are, ``+14155550100``: with no letter, no
quote and no parenthesis there is no function, reference or DDE call to run, and the
quote spoiled every phone column for whoever read the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import (
    AttributeDefinition,
    ConsentRecord,
    Identity,
    Organization,
    Person,
    Tag,
    person_tags,
)
from tenure.customers.queries import PeopleFilter, filter_people
from tenure.exports.parquet import PEOPLE_SCHEMA, parquet_stream, people_table
from tenure.identity.models import User
from tenure.timeline.models import Event

# 2,000 people with their identities is ~2 MB of Python objects: the flat memory floor.
BATCH = 2_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "jsonl", "parquet")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


# One or more E.164 numbers (ITU-T E.164: at most 15 digits), as the phones column joins them.
E164_CELL = re.compile(r"\+[0-9]{1,15}(;\+[0-9]{1,15})*")


def escape_cell(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not E164_CELL.fullmatch(value)
    ):
        return "'" + value
    return value


@dataclass(frozen=True)
class EventFilter:
    people: PeopleFilter = field(default_factory=PeopleFilter)
    types: tuple[str, ...] = ()
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def _person_batches(
    factory: sessionmaker[Session], filters: PeopleFilter
) -> Iterator[list[dict[str, Any]]]:
    last = 0
    while True:
        with factory() as session:
            query = (
                select(
                    Person.id,
                    Person.first_name,
                    Person.last_name,
                    Person.job_title,
                    Person.organization_id,
                    Organization.name.label("organization"),
                    User.email.label("owner_email"),
                    Person.attributes,
                    Person.created_at,
                    Person.updated_at,
                )
                .outerjoin(Organization, Organization.id == Person.organization_id)
                .outerjoin(User, User.id == Person.owner_id)
                .where(Person.id > last)
                .order_by(Person.id)
                .limit(BATCH)
            )
            rows = session.execute(filter_people(query, filters)).all()
            if not rows:
                return
            people = [dict(row._mapping) for row in rows]
            _attach(session, people)
        last = people[-1]["id"]
        yield people


def _attach(session: Session, people: list[dict[str, Any]]) -> None:
    by_id = {p["id"]: p for p in people}
    for p in people:
        p.update(identities=[], tags=[], consents={})
        p["attributes"] = p["attributes"] or {}
    ids = list(by_id)
    for person_id, kind, namespace, value, original, primary in session.execute(
        select(
            Identity.person_id,
            Identity.kind,
            Identity.namespace,
            Identity.value,
            Identity.original,
            Identity.is_primary,
        )
        .where(Identity.person_id.in_(ids))
        .order_by(Identity.person_id, Identity.kind, Identity.is_primary.desc(), Identity.id)
    ):
        by_id[person_id]["identities"].append(
            {
                "kind": kind,
                "namespace": namespace,
                "value": value,
                "original": original,
                "is_primary": primary,
            }
        )
    for person_id, name in session.execute(
        select(person_tags.c.person_id, Tag.name)
        .join(Tag, Tag.id == person_tags.c.tag_id)
        .where(person_tags.c.person_id.in_(ids))
        .order_by(Tag.name)
    ):
        by_id[person_id]["tags"].append(name)
    for person_id, channel, purpose, status in session.execute(
        select(
            ConsentRecord.person_id,
            ConsentRecord.channel,
            ConsentRecord.purpose,
            ConsentRecord.status,
        )
        .where(ConsentRecord.person_id.in_(ids))
        .order_by(ConsentRecord.id)
    ):
        by_id[person_id]["consents"][f"{channel}.{purpose}"] = status  # latest wins


def _flat_person(person: dict[str, Any], attribute_keys: Sequence[str]) -> list[Any]:
    def joined(kind: str) -> str:
        return ";".join(
            (f"{i['namespace']}:{i['value']}" if i["namespace"] else i["value"])
            for i in person["identities"]
            if i["kind"] == kind
        )

    row = [
        person["id"],
        person["first_name"],
        person["last_name"],
        person["job_title"] or "",
        person["organization_id"] or "",
        person["organization"] or "",
        person["owner_email"] or "",
        joined("email"),
        joined("phone"),
        joined("external"),
        joined("social"),
        ";".join(person["tags"]),
        ";".join(f"{k}={v}" for k, v in sorted(person["consents"].items())),
        person["created_at"].isoformat(),
        person["updated_at"].isoformat(),
    ]
    attributes = person["attributes"]
    row.extend(_cell(attributes.get(key)) for key in attribute_keys)
    return [escape_cell(v) for v in row]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


PERSON_CSV_HEADER = [
    "id",
    "first_name",
    "last_name",
    "job_title",
    "organization_id",
    "organization",
    "owner_email",
    "emails",
    "phones",
    "external_ids",
    "social",
    "tags",
    "consents",
    "created_at",
    "updated_at",
]


def _csv_lines(header: list[str], rows: Iterator[list[list[Any]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for batch in rows:
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue().encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError


def export_people(
    factory: sessionmaker[Session], *, format: str, filters: PeopleFilter | None = None
) -> Iterator[bytes]:
    """The bytes of the export, batch by batch (write them to a file or a response)."""
    batches = _person_batches(factory, filters or PeopleFilter())
    if format == "jsonl":
        return (
            b"".join(orjson.dumps(p, default=_jsonable) + b"\n" for p in batch) for batch in batches
        )
    if format == "parquet":
        return parquet_stream((people_table(batch) for batch in batches), PEOPLE_SCHEMA)
    with factory() as session:
        keys = list(
            session.scalars(
                select(AttributeDefinition.key)
                .where(AttributeDefinition.entity == "person")
                .order_by(AttributeDefinition.key)
            )
        )
    header = PERSON_CSV_HEADER + [f"attr.{k}" for k in keys]
    return _csv_lines(header, ([_flat_person(p, keys) for p in batch] for batch in batches))


EVENT_COLUMNS = (
    "id",
    "person_id",
    "occurred_at",
    "type",
    "channel",
    "source",
    "client_event_id",
    "amount_minor",
    "currency",
    "payload",
)
_EVENTS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("person_id", pa.int64()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("type", pa.string()),
        ("channel", pa.string()),
        ("source", pa.string()),
        ("client_event_id", pa.string()),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("payload", pa.string()),
    ]
)


def _event_batches(factory: sessionmaker[Session], filters: EventFilter) -> Iterator[Sequence[Any]]:
    last = 0
    people = filter_people(select(Person.id), filters.people)
    narrowed = filters.people != PeopleFilter()
    while True:
        with factory() as session:
            query = (
                select(*(getattr(Event, c) for c in EVENT_COLUMNS))
                .where(Event.id > last)
                .order_by(Event.id)
                .limit(BATCH)
            )
            if narrowed:
                query = query.where(Event.person_id.in_(people))
            if filters.types:
                query = query.where(Event.type.in_(filters.types))
            if filters.occurred_from:
                query = query.where(Event.occurred_at >= filters.occurred_from)
            if filters.occurred_to:
                query = query.where(Event.occurred_at < filters.occurred_to)
            rows = session.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def export_events(
    factory: sessionmaker[Session], *, format: str, filters: EventFilter | None = None
) -> Iterator[bytes]:
    batches = _event_batches(factory, filters or EventFilter())
    if format == "jsonl":
        return (
            b"".join(orjson.dumps(dict(r._mapping), default=_jsonable) + b"\n" for r in batch)
            for batch in batches
        )
    if format == "parquet":
        return parquet_stream(
            (
                pa.table(
                    {
                        **{c: [getattr(r, c) for r in batch] for c in EVENT_COLUMNS[:-1]},
                        "payload": [orjson.dumps(r.payload).decode() for r in batch],
                    },
                    schema=_EVENTS_SCHEMA,
                )
                for batch in batches
            ),
            _EVENTS_SCHEMA,
        )
    rows = (
        [
            [
                escape_cell(v)
                for v in (
                    r.id,
                    r.person_id,
                    r.occurred_at.isoformat(),
                    r.type,
                    r.channel or "",
                    r.source,
                    r.client_event_id or "",
                    "" if r.amount_minor is None else r.amount_minor,
                    r.currency or "",
                    orjson.dumps(r.payload).decode(),
                )
            ]
            for r in batch
        ]
        for batch in batches
    )
    return _csv_lines(list(EVENT_COLUMNS), rows)
