"""`tenure segments` through typer's CliRunner against a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.segments.membership import ENTERED
from tenure.timeline.models import Event

from .conftest import build_world

runner = CliRunner()


@pytest.fixture
def cli_world(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        build_world(session)
    engine.dispose()
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()


def test_segments_commands(cli_world: str):
    # preview counts without saving; a mistake names its position
    preview = runner.invoke(app, ["segments", "preview", 'tag = "vip"', "--as-of", "2026-01-01"])
    assert preview.exit_code == 0, preview.output
    assert "2 people match" in preview.output and "Ada" in preview.output
    bad = runner.invoke(app, ["segments", "preview", "tag = vip"])
    assert bad.exit_code == 1 and "at position 6" in bad.output

    created = runner.invoke(app, ["segments", "create", "VIPs", "--filter", 'tag = "vip"'])
    assert created.exit_code == 0, created.output
    assert "with 2 members" in created.output

    listed = runner.invoke(app, ["segments", "list"])
    assert listed.exit_code == 0, listed.output
    assert "VIPs" in listed.output and "Champions" in listed.output

    # refresh everything: built-ins enter their scored customers
    refreshed = runner.invoke(app, ["segments", "refresh", "--as-of", "2026-01-01"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "Champions" in refreshed.output
    one = runner.invoke(app, ["segments", "refresh", "--segment", "VIPs"])
    assert one.exit_code == 0 and "VIPs" in one.output
    missing = runner.invoke(app, ["segments", "refresh", "--segment", "Nope"])
    assert missing.exit_code == 1 and "not found" in missing.output

    engine = create_db_engine(cli_world)
    with engine.connect() as connection:
        entered = connection.scalar(
            select(func.count()).select_from(Event).where(Event.type == ENTERED)
        )
    engine.dispose()
    # 2 VIPs + 5 RFM segments + 4 value tiers (eve has no CLV)
    assert entered == 2 + 5 + 4
