"""`tenure retention refresh` and `tenure nba mine` through typer's CliRunner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.retention.models import NbaRule, RiskScore

from .history import AS_OF, add_event, person, score
from .test_nba import build

runner = CliRunner()


def test_refresh_and_mine_commands(fresh_database_url, monkeypatch):
    # Given a workspace with a customer complaining and the A -> B purchases
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        angry = person(session, "Angie Angry")
        score(session, angry, clv_minor=40_000)
        for days in (1, 2, 3):
            add_event(session, angry, AS_OF - timedelta(days=days), "complaint")
        build(session)
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    try:
        # When the commands run as of the end of 2024-10-31
        refreshed = runner.invoke(app, ["retention", "refresh", "--as-of", "2024-10-31"])
        mined = runner.invoke(
            app,
            ["nba", "mine", "--as-of", "2024-10-31", "--window-days", "90", "--min-support", "3"],
        )
        bad = runner.invoke(app, ["retention", "refresh", "--as-of", "yesterday"])
    finally:
        cli_engine().dispose()
        get_settings.cache_clear()
        cli_engine.cache_clear()

    # Then they report what they did and store it
    assert refreshed.exit_code == 0, refreshed.output
    assert "1 customer with signals" in refreshed.output
    assert "tasks created 1" in refreshed.output
    assert mined.exit_code == 0, mined.output
    assert "2 rules from 28 buyers as of 2024-10-31" in mined.output
    assert "buyers of A buy B within 90 days in 50% of cases" in mined.output
    assert bad.exit_code == 2 and "ISO date" in bad.output
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(RiskScore)) == 1
        assert connection.scalar(select(func.count()).select_from(NbaRule)) == 2
    engine.dispose()
