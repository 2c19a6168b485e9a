"""`tenure duplicates scan` and `undo` through typer's CliRunner, on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.dedup.models import DuplicateCandidate, Merge
from tenure.dedup.scan import PAIR_COLUMNS
from tests.dedup.test_dedup_scan import write_base

runner = CliRunner()


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    engine = create_db_engine(fresh_database_url)
    write_base(make_session_factory(engine), 200)
    engine.dispose()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()


def _counts(url: str) -> tuple[int, int, int]:
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Person, DuplicateCandidate, Merge)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_dry_run_writes_the_pairs_file_and_nothing_else(database: str, tmp_path) -> None:
    target = tmp_path / "pairs.csv"

    result = runner.invoke(app, ["duplicates", "scan", "--dry-run", "--pairs", str(target)])

    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and "pairs for review" in result.output
    pairs = pd.read_csv(target)
    assert list(pairs.columns) == list(PAIR_COLUMNS)
    assert len(pairs) > 0 and set(pairs["decision"]) == {"auto", "review"}
    assert pairs["left_external_ids"].str.fullmatch(r"synthetic:\d+").all()
    assert (pairs["left_person_id"] < pairs["right_person_id"]).all()
    assert pairs["score"].between(0.9, 1.0).all()
    assert _counts(database) == (200, 0, 0)


def test_scan_merges_and_undo_restores(database: str) -> None:
    result = runner.invoke(app, ["duplicates", "scan"])
    assert result.exit_code == 0, result.output
    people, candidates, merges = _counts(database)
    assert merges > 0 and people == 200 - merges and candidates > merges

    engine = create_db_engine(database)
    with make_session_factory(engine)() as session:
        merge = session.scalars(select(Merge).order_by(Merge.id.desc())).first()
        assert merge is not None
    engine.dispose()
    undone = runner.invoke(app, ["duplicates", "undo", str(merge.id)])
    assert undone.exit_code == 0, undone.output
    assert f"person {merge.loser_id} restored" in undone.output
    assert _counts(database)[0] == people + 1

    again = runner.invoke(app, ["duplicates", "undo", str(merge.id)])
    assert again.exit_code == 1 and "already undone" in again.output
