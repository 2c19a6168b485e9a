"""The `tenure` command line through typer's CliRunner, against a real database."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.all_tasks import NIGHTLY_CHAIN
from tenure.cli.main import app
from tenure.customers.models import PersonSummary
from tenure.db.engine import create_db_engine
from tenure.identity.models import ApiToken, User
from tenure.identity.tokens import hash_token
from tenure.jobs.models import Job
from tenure.lifecycle.models import LifecycleSettings, LifecycleStage, PersonStage
from tenure.retention.models import NbaRule, RiskScore
from tenure.segments.models import Segment
from tenure.timeline.models import Event
from tenure.workspace.models import Workspace

runner = CliRunner()


# Lifecycle appends `stage_changed` events for the people an import touches.
IMPORTED = select(func.count()).select_from(Event).where(Event.type != "stage_changed")


def _count(url: str, statement) -> int:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        value = conn.execute(statement).scalar_one()
    engine.dispose()
    return value


def test_user_and_token_create(cli_database):
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(
        app,
        ["user", "create", "--email", "Root@Example.com", "--role", "admin"],
        input="long-password\nlong-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "with role admin" in result.output

    duplicate = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "root@example.com",
            "--role",
            "sales",
            "--password",
            "another-pass",
        ],
    )
    assert duplicate.exit_code == 1 and "exists" in duplicate.output

    bad_role = runner.invoke(
        app,
        ["user", "create", "--email", "x@example.com", "--role", "wizard", "--password", "p" * 10],
    )
    assert bad_role.exit_code == 2

    token = runner.invoke(
        app, ["token", "create", "--email", "root@example.com", "--scope", "write"]
    )
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("tnr_")
    stored = (
        select(func.count()).select_from(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    )
    assert _count(cli_database, stored) == 1
    assert _count(cli_database, select(func.count()).select_from(User)) == 1


def test_events_import_reports_every_line(cli_database, tmp_path):
    runner.invoke(app, ["init"])
    lines = [
        {
            "type": "visit",
            "occurred_at": "2026-01-01T10:00:00Z",
            "email": "a@example.com",
            "source": "site",
            "client_event_id": "v1",
        },
        {
            "type": "visit",
            "occurred_at": "2026-01-01T10:00:00Z",
            "email": "a@example.com",
            "source": "site",
            "client_event_id": "v1",
        },
        {
            "type": "order",
            "occurred_at": "2026-01-02T10:00:00Z",
            "email": "b@example.com",
            "source": "site",
            "client_event_id": "o1",
            "amount_minor": 1200,
            "currency": "USD",
        },
        {"type": "order", "occurred_at": "2026-01-02T10:00:00Z", "email": "b@example.com"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n{broken json\n\n"
    path = tmp_path / "events.jsonl"
    path.write_text(text)

    result = runner.invoke(app, ["events", "import", str(path)])
    assert result.exit_code == 2, result.output  # some lines were rejected
    # lines, imported, duplicates, rejected
    assert re.search(r"│ 5\s+│ 2\s+│ 1\s+│ 2\s+│", result.output), result.output
    assert re.search(r"│\s+4 │ amount_minor\s+│ order events need amount_minor", result.output)
    assert re.search(r"│\s+5 │ \(line\)\s+│ invalid JSON", result.output)
    assert _count(cli_database, IMPORTED) == 2

    again = runner.invoke(app, ["events", "import", str(path)])
    assert re.search(r"│ 5\s+│ 0\s+│ 3\s+│ 2\s+│", again.output), again.output
    assert _count(cli_database, IMPORTED) == 2


def test_demo_builds_the_cdnow_workspace(cli_database):
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "23,876 people (306 planted duplicates to find), 69,659 orders" in said
    orders = select(func.count()).select_from(Event).where(Event.type == "order")
    assert _count(cli_database, orders) == 69_659
    revenue = select(func.sum(Event.amount_minor)).where(Event.source == "cdnow")
    # The CDNOW master log's dollar_value column sums to $2,500,315.63.
    assert _count(cli_database, revenue) == 250_031_563
    # The demo's events went through the event pipeline: every person has a stage, the
    # planted duplicates (no orders) included.
    assert _count(cli_database, select(func.count()).select_from(PersonStage)) == 23_876
    changed = select(func.count()).select_from(Event).where(Event.type == "stage_changed")
    assert _count(cli_database, changed) >= 23_876
    # Its clock stands on the day after the log (1998-06-30) ends.
    fixed = _count(cli_database, select(Workspace.fixed_now))
    assert fixed is not None and fixed.date().isoformat() == "1998-07-01"
    # The nightly chain ran as jobs before the command returned: every page has its data
    done = select(func.count()).select_from(Job).where(Job.state == "succeeded")
    chain = done.where(Job.task.in_(NIGHTLY_CHAIN))
    assert _count(cli_database, chain) == len(NIGHTLY_CHAIN)
    # and so did the read model's rebuild: every person has a fresh summary.
    summaries = select(func.count()).select_from(PersonSummary)
    assert _count(cli_database, summaries.where(PersonSummary.stale.is_(False))) == 23_876
    assert _count(cli_database, done.where(Job.task == "summaries.rebuild")) >= 1
    assert _count(cli_database, select(func.count()).select_from(RiskScore)) > 1_000
    assert _count(cli_database, select(func.count()).select_from(NbaRule)) > 10
    filled = select(func.count()).select_from(Segment).where(Segment.member_count > 0)
    assert _count(cli_database, filled) >= 11  # of the 13 built-ins (the demo has no "New")

    refused = runner.invoke(app, ["demo"])
    assert refused.exit_code == 1


def test_init_creates_what_first_reads_would_otherwise_write(cli_database):
    """Issue 9: a GET that creates the defaults inside a read transaction could fail on
    SQLite; after `tenure init` the lifecycle model and built-in segments already exist."""
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert _count(cli_database, select(func.count()).select_from(LifecycleSettings)) == 1
    assert _count(cli_database, select(func.count()).select_from(LifecycleStage)) > 0
    builtins = select(func.count()).select_from(Segment).where(Segment.builtin_key.is_not(None))
    assert _count(cli_database, builtins) > 0
    assert runner.invoke(app, ["init"]).exit_code == 0  # idempotent
    assert _count(cli_database, select(func.count()).select_from(LifecycleSettings)) == 1
