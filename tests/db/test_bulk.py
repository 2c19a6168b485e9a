"""db.bulk.load_rows: COPY on PostgreSQL, executemany on SQLite, the same rows and ids."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.db.bulk import load_rows, release_page_cache
from tenure.ingest.models import Import, ImportIssue

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_load_rows_returns_ascending_ids_in_row_order_and_stores_json(session: Session) -> None:
    columns = ("first_name", "last_name", "attributes", "search_text", "created_at", "updated_at")
    rows = [
        (f"First{n}", "Tab\there", {"n": n, "nested": [n, "x"]}, f"first{n}", NOW, NOW)
        for n in range(3)
    ]
    ids = load_rows(session.connection(), Person.__table__, columns, rows, return_ids=True)
    assert ids == sorted(ids) and len(set(ids)) == 3
    stored = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Person.attributes, Person.created_at)
        .where(Person.id.in_(ids))
        .order_by(Person.id)
    ).all()
    assert [tuple(r) for r in stored] == [
        (ids[n], f"First{n}", "Tab\there", {"n": n, "nested": [n, "x"]}, NOW) for n in range(3)
    ]
    release_page_cache(session.connection())  # harmless anywhere, in a transaction too


def test_load_rows_quotes_reserved_column_names(session: Session) -> None:
    record = Import(
        file_name="f.csv",
        file_sha256="0" * 64,
        format="csv",
        entity="person",
        mapping={},
        options={},
        status="running",
        rows_done=0,
        created=0,
        updated=0,
        unchanged=0,
        duplicates=0,
        rejected=0,
        resumed=0,
    )
    session.add(record)
    session.flush()
    columns = ("import_id", "line", "kind", "column", "reason", "person_id")
    load_rows(
        session.connection(),
        ImportIssue.__table__,
        columns,
        [(record.id, 7, "rejected", "Email", "is not an email address", None)],
    )
    issue = session.scalars(select(ImportIssue).where(ImportIssue.import_id == record.id)).one()
    assert (issue.line, issue.column, issue.reason) == (7, "Email", "is not an email address")


def test_no_rows_write_nothing(session: Session) -> None:
    assert load_rows(session.connection(), Person.__table__, ("first_name",), []) == []
