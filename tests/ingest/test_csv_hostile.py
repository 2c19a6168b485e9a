"""CSV files as they come (issue 9): doubled quotes, CR-only line endings, UTF-16, bad
birthdays; through the importer, the API and the CLI, on both backends."""

from __future__ import annotations

from sqlalchemy import select

from tenure.customers.models import Identity, Person
from tenure.db.session import unit_of_work
from tenure.ingest.csv_import import bytes_opener, prepare_csv
from tenure.ingest.runner import run_import

QUOTED = (
    'first_name,last_name,email\n"Say ""hi"", folks",Doe,x@e.com\n"He said ""hi""",Roe,y@e.com\n'
)


def _import_bytes(session_factory, content: bytes, name: str = "people.csv"):
    with unit_of_work(session_factory) as session:
        source = prepare_csv(
            session, opener=bytes_opener(content), file_name=name, default_region="US"
        )
    return run_import(session_factory=session_factory, source=source, actor_id=None)


def _first_names(session) -> dict[str, str]:
    rows = session.execute(
        select(Identity.value, Person.first_name).join(Person).where(Identity.kind == "email")
    )
    return dict(rows.all())


def test_doubled_quotes_inside_quoted_cells_are_one_quote(session, session_factory):
    report = _import_bytes(session_factory, QUOTED.encode())
    assert report.counts()["created"] == 2 and report.counts()["rejected"] == 0
    assert _first_names(session) == {"x@e.com": 'Say "hi", folks', "y@e.com": 'He said "hi"'}


def test_cr_only_line_endings_are_lines(session, session_factory):
    report = _import_bytes(session_factory, QUOTED.replace("\n", "\r").encode())
    assert report.counts()["created"] == 2, report.issues
    assert _first_names(session) == {"x@e.com": 'Say "hi", folks', "y@e.com": 'He said "hi"'}


def test_utf16_files_are_detected_by_their_bom(session, session_factory):
    text = QUOTED.replace("Doe", "Dœ-Ünal").replace("\n", "\r\n")
    for encoding in ("utf-16", "utf-16-be"):
        content = text.encode(encoding)
        if encoding == "utf-16-be":
            content = b"\xfe\xff" + content
        report = _import_bytes(session_factory, content, name=f"{encoding}.csv")
        assert report.counts()["rejected"] == 0, report.issues
    last_names = session.scalars(select(Person.last_name).order_by(Person.id)).all()
    assert last_names == ["Dœ-Ünal", "Roe"]


def test_birthdays_are_checked(session, session_factory):
    content = (
        b"first_name,email,birthday\n"
        b"Ann,ann@e.com,1990-13-45\n"
        b"Bob,bob@e.com,1990-12-31\n"
        b"Cy,cy@e.com,--02-29\n"
    )
    report = _import_bytes(session_factory, content)
    rejected = [(i.line, i.column) for i in report.issues if i.kind == "rejected"]
    assert rejected == [(2, "birthday")]
    birthdays = dict(
        session.execute(
            select(Identity.value, Person.attributes).join(Person).where(Identity.kind == "email")
        ).all()
    )
    assert birthdays["bob@e.com"]["birthday"] == "1990-12-31"
    assert birthdays["cy@e.com"]["birthday"] == "--02-29"
    assert "ann@e.com" not in birthdays


def test_cr_only_upload_over_http(client, admin, session):
    response = client.post(
        "/api/v1/imports/csv",
        files={"file": ("mac.csv", QUOTED.replace("\n", "\r").encode(), "text/csv")},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["created"] == 2
    assert _first_names(session)["x@e.com"] == 'Say "hi", folks'


def test_an_unreadable_line_is_a_422_naming_the_file(client, admin):
    # A cell over the csv module's 128 KB field limit.
    content = b"first_name,email\n" + b'"' + b"x" * 200_000 + b'",z@e.com\n'
    response = client.post(
        "/api/v1/imports/csv",
        files={"file": ("huge.csv", content, "text/csv")},
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "file" and "line 2" in error["reason"]
