"""Files as they come (issue 9): `tenure import csv` reads CR-only line endings instead of
a traceback; `tenure events import` rejects an integer beyond 64 bits instead of rounding it."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.timeline.models import Event

runner = CliRunner()


def test_cr_only_file_is_imported(cli_database, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    path = tmp_path / "mac.csv"
    path.write_bytes(
        b'first_name,last_name,email\r"Say ""hi"", folks",Doe,x@e.com\rAl,Roe,y@e.com\r'
    )
    result = runner.invoke(app, ["import", "csv", str(path)])
    assert result.exit_code == 0, result.output
    engine = create_db_engine(cli_database)
    with make_session_factory(engine)() as session:
        names = session.scalars(select(Person.first_name).order_by(Person.id)).all()
    engine.dispose()
    assert names == ['Say "hi", folks', "Al"]


def test_an_unreadable_line_is_one_message_not_a_traceback(cli_database, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    path = tmp_path / "huge.csv"
    path.write_bytes(b"first_name,email\n" + b'"' + b"x" * 200_000 + b'",z@e.com\n')
    result = runner.invoke(app, ["import", "csv", str(path)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "is not CSV this import can read" in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_events_import_rejects_integers_beyond_64_bits(cli_database, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    event = (
        '{"type": "visit", "occurred_at": "2026-03-01T10:00:00Z", "email": "v@e.com", '
        '"client_event_id": "%s", "payload": {"seats": %s}}'
    )
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([event % ("a", 2**70), event % ("b", 12)]) + "\n")
    result = runner.invoke(app, ["events", "import", str(path)])
    assert result.exit_code == 2, result.output  # a line was rejected
    assert "payload.seats is an integer beyond 64 bits" in result.output.replace("\n", " ")
    engine = create_db_engine(cli_database)
    with make_session_factory(engine)() as session:
        payloads = session.scalars(select(Event.payload).where(Event.type == "visit")).all()
    engine.dispose()
    assert payloads == [{"seats": 12}]
