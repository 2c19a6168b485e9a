"""`tenure lifecycle evaluate` through typer's CliRunner against a fresh database."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.lifecycle.models import PersonStage

from .helpers import days_ago, event, order, person, stage_of, store

runner = CliRunner()


def test_lifecycle_evaluate_command(fresh_database_url, monkeypatch):
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        buyer, visitor, _quiet = (person(session, n) for n in ("buyer", "visitor", "quiet"))
        store(session, [order(buyer, days_ago(3)), event(visitor, "visit", days_ago(2))])
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    try:
        first = runner.invoke(app, ["lifecycle", "evaluate", "--as-of", "2025-12-31"])
        again = runner.invoke(app, ["lifecycle", "evaluate", "--as-of", "2025-12-31"])
        full = runner.invoke(app, ["lifecycle", "evaluate", "--as-of", "2025-12-31", "--full"])
        bad = runner.invoke(app, ["lifecycle", "evaluate", "--as-of", "someday"])
    finally:
        cli_engine().dispose()
        get_settings.cache_clear()
        cli_engine.cache_clear()

    assert first.exit_code == 0, first.output
    assert "3 people evaluated (everyone), 3 stage changes" in first.output
    assert "new_customer" in first.output
    # nothing changed since, at the same time: no one to place again, unless asked
    assert "0 people evaluated (people whose inputs changed), 0 stage" in again.output
    assert "3 people evaluated (everyone), 0 stage changes" in full.output
    assert bad.exit_code != 0
    with unit_of_work(make_session_factory(engine)) as session:
        assert stage_of(session, buyer) == "new_customer"
        assert stage_of(session, visitor) == "lead"
        assert session.scalar(select(func.count()).select_from(PersonStage)) == 3
    engine.dispose()
