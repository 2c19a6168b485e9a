"""`tenure templates list|show|validate` against a real database."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.db.engine import create_db_engine
from tenure.messaging.templating.library import LIBRARY
from tenure.messaging.templating.models import MessageTemplate

runner = CliRunner()


def test_list_show_and_validate(cli_database, tmp_path):
    # `tenure init` seeds the library in its writer's transaction (first reads only read)
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = create_db_engine(cli_database)
    with engine.connect() as conn:
        seeded = conn.scalar(select(func.count()).select_from(MessageTemplate))
    engine.dispose()
    assert seeded == len(LIBRARY)
    listed = runner.invoke(app, ["templates", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Win-back" in listed.output and "Renewal reminder" in listed.output
    shown = runner.invoke(app, ["templates", "show", "1"])
    assert shown.exit_code == 0
    assert "Subject: " in shown.output and "<!DOCTYPE html>" in shown.output
    assert runner.invoke(app, ["templates", "show", "999"]).exit_code == 1

    good = tmp_path / "good.html"
    good.write_text("<p>Hello {{ person.first_name }}</p>")
    ok = runner.invoke(app, ["templates", "validate", str(good), "--subject", "Hi"])
    assert ok.exit_code == 0 and "valid" in ok.output

    bad = tmp_path / "bad.html"
    bad.write_text("<p>Hello</p>\n{{ person.nmae }}\n{{ cycler.__init__.__globals__ }}")
    refused = runner.invoke(app, ["templates", "validate", str(bad)])
    assert refused.exit_code == 1
    assert "html: line 2: unknown field person.nmae" in refused.output
    assert "html: line 3: cycler.__init__ is not allowed" in refused.output
