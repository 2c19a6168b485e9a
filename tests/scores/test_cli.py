"""`tenure scores refresh` through typer's CliRunner against a fresh database."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.db.engine import create_db_engine
from tenure.scores.models import ModelReport, PersonScore, ScoreRefresh

from .workspace import START, add_events, add_people, event

runner = CliRunner()


def test_scores_refresh_command(fresh_database_url, monkeypatch):
    # Given twenty customers who buy every month (too regular for a churn model)
    engine = create_db_engine(fresh_database_url)
    with engine.begin() as connection:
        people = add_people(connection, 20)
        add_events(
            connection,
            [
                event(p, START.replace(day=1 + i % 20, month=1 + k), amount=1500 + 10 * i)
                for i, p in enumerate(people)
                for k in range(10)
            ],
        )
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    try:
        # When the command runs as of the end of 2024
        result = runner.invoke(app, ["scores", "refresh", "--as-of", "2024-12-31"])
        bad = runner.invoke(app, ["scores", "refresh", "--as-of", "last tuesday"])
    finally:
        cli_engine().dispose()
        get_settings.cache_clear()
        cli_engine.cache_clear()

    # Then it reports the models and stores a score per customer
    assert result.exit_code == 0, result.output
    assert "20 customers scored" in result.output
    assert "bgnbd" in result.output and "skipped" in result.output  # churn: nobody churned
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(PersonScore)) == 20
        as_of = connection.scalar(select(func.max(ScoreRefresh.as_of)))
        reports = connection.scalar(select(func.count()).select_from(ModelReport))
    assert as_of is not None and as_of.isoformat().startswith("2024-12-31T23:59:59")
    assert reports == 3
    assert bad.exit_code == 2 and "ISO date" in bad.output
    engine.dispose()
