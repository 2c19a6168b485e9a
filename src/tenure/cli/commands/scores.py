"""scores refresh: recompute every customer's scores and the model reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.cli.context import cli_sessions, cli_settings
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.scores.refresh import STEPS, refresh_scores

console = Console()

scores_app = typer.Typer(help="Customer scores: RFM, CLV, P(alive), churn.", no_args_is_help=True)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO date or time, e.g. 1998-06-30 or 1998-06-30T23:59Z")
    if parsed.tzinfo is None:
        # A bare date or time means the end of that moment in UTC: the scores' calendar.
        parsed = parsed.replace(tzinfo=UTC)
        if len(value) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


@scores_app.command("refresh")
def refresh(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Score as of this date or time (UTC unless given); default now, or the "
            "newest event in a demo workspace.",
        ),
    ] = None,
) -> None:
    """Aggregate orders in the database, fit BG/NBD, Gamma-Gamma and churn, store scores."""
    when = _parse_as_of(as_of)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Refreshing scores", total=len(STEPS))
        started: list[str] = []

        def on_step(name: str) -> None:
            if started:
                progress.advance(task)
            started.append(name)
            progress.update(task, description=name)

        result = refresh_scores(
            session_factory=cli_sessions(), settings=cli_settings(), as_of=when, progress=on_step
        )
        progress.update(task, completed=len(STEPS), description="Done")
    # Lifecycle rules read P(alive), churn and CLV: re-place everyone on the new scores
    # (the nightly chain does the same as its next job).
    with console.status("Re-placing lifecycle stages"):
        evaluate_all_stages(session_factory=cli_sessions(), as_of=result.as_of)
    table = Table(title=f"Scores as of {result.as_of:%Y-%m-%d %H:%M} UTC")
    table.add_column("model")
    table.add_column("status")
    for model, status in result.reports.items():
        table.add_row(model, status if status == "fitted" else f"[yellow]{status}[/]")
    console.print(table)
    total = sum(result.timings.values())
    console.print(
        f"[green]{result.customers:,} customers scored[/] in {total:.1f} s "
        f"(model version {result.version})."
    )
