"""`tenure import` runs the same action as the API and the page (ingest.actions)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.customers.models import AttributeDefinition, Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.ingest.models import Import

DATA = Path(__file__).parents[1] / "ingest" / "data"
runner = CliRunner()


def test_import_csv_declares_and_imports(cli_database):
    command = ["import", "csv", str(DATA / "contacts.csv")]
    result = runner.invoke(app, [*command, "--map", "Plan=attribute:plan", "--declare", "plan"])
    assert result.exit_code == 2, result.output  # 2: the file has rows it rejects
    assert "Narnia" in result.output
    engine = create_db_engine(cli_database)
    with make_session_factory(engine)() as session:
        definition = session.scalars(
            select(AttributeDefinition).where(AttributeDefinition.key == "plan")
        ).one()
        assert definition.type == "text"
        ada = session.scalars(select(Person).where(Person.first_name == "Ada")).one()
        assert ada.attributes["plan"] == "pro"
        record = session.scalars(select(Import)).one()
        assert record.status == "completed" and record.actor_id is None
    engine.dispose()


def test_a_bad_preset_is_a_clear_error(cli_database):
    result = runner.invoke(app, ["import", "csv", str(DATA / "contacts.csv"), "--preset", "nope"])
    assert result.exit_code == 1
    assert "preset" in result.output
    engine = create_db_engine(cli_database)
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Import)).first() is None
    engine.dispose()
