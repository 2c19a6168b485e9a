"""retention refresh (signals, risk, alerts) and nba mine (next-best-action rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.db.session import unit_of_work
from tenure.retention.actions import record_nba_rules, refresh_retention
from tenure.retention.queries import nba_rules

console = Console()

retention_app = typer.Typer(
    help="Proactive retention: warning signals, risk, alerts.", no_args_is_help=True
)
nba_app = typer.Typer(help="Next best action: what to offer whom, and when.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.add_typer(nba_app, name="nba")


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO date or time, e.g. 1998-06-30 or 1998-06-30T23:59Z")
    if parsed.tzinfo is None:
        # A bare date means the end of that day in UTC, as `tenure scores refresh` reads it.
        parsed = parsed.replace(tzinfo=UTC)
        if len(value) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As of this date or time (UTC unless given); default now, or the fixed day "
        "in a demo workspace.",
    ),
]


@retention_app.command("refresh")
def refresh(as_of: AsOf = None) -> None:
    """Compute every customer's warning signals and risk; open and close alert episodes."""
    when = _as_of(as_of)
    with (
        console.status("Reading signals and updating alerts"),
        unit_of_work(cli_sessions()) as session,
    ):
        result = refresh_retention(session=session, as_of=when)
    table = Table(title=f"Retention as of {result.as_of:%Y-%m-%d %H:%M} UTC")
    table.add_column("signal")
    table.add_column("customers", justify="right")
    for kind, count in sorted(result.signal_counts.items()):
        table.add_row(kind, f"{count:,}")
    console.print(table)
    n = result.customers_with_signals
    console.print(
        f"[green]{n:,} customer{'' if n == 1 else 's'} with signals[/], "
        f"{result.above_threshold:,} at or above the alert threshold; alerts opened "
        f"{result.alerts.opened:,}, closed {result.alerts.closed:,}, "
        f"tasks created {result.alerts.tasks:,}."
    )


@nba_app.command("mine")
def mine(
    as_of: AsOf = None,
    window_days: Annotated[
        int, typer.Option("--window-days", min=1, help="B must follow A within this many days.")
    ] = 180,
    min_support: Annotated[
        int, typer.Option("--min-support", min=1, help="Fewest customers behind a rule.")
    ] = 20,
    categories_only: Annotated[
        bool, typer.Option("--categories-only", help="Skip the SKU-level rules.")
    ] = False,
) -> None:
    """Mine "buyers of A buy B within N days" rules from order items; replace stored ones."""
    levels: tuple = ("category",) if categories_only else ("category", "sku")
    with (
        console.status("Counting item sequences in the database"),
        unit_of_work(cli_sessions()) as session,
    ):
        run = record_nba_rules(
            session=session,
            as_of=_as_of(as_of),
            window_days=window_days,
            min_support=min_support,
            levels=levels,
        )
        best = nba_rules(session, sort="confidence", limit=10)
    console.print(
        f"[green]{run.rules:,} rules[/] from {run.buyers:,} buyers as of {run.as_of:%Y-%m-%d} "
        f"(window {run.window_days} days, at least {run.min_support} customers each)."
    )
    for rule in best["items"]:
        console.print(f"  {rule['text']}")
