"""lifecycle evaluate: re-place every person in their stage, with a progress bar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.lifecycle.actions import evaluate_all_stages

console = Console()

lifecycle_app = typer.Typer(
    help="Lifecycle stages: evaluate the stage rules.", no_args_is_help=True
)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO date or time, e.g. 2026-06-30 or 2026-06-30T12:00Z")
    if parsed.tzinfo is None:
        # A bare date means the end of that day in UTC, as for `tenure scores refresh`.
        parsed = parsed.replace(tzinfo=UTC)
        if len(value) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


@lifecycle_app.command("evaluate")
def evaluate(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Evaluate as of this date or time (UTC unless given); default now, or the "
            "fixed day of a demo workspace.",
        ),
    ] = None,
    chunk: Annotated[
        int, typer.Option("--chunk", min=100, help="People per transaction.")
    ] = 50_000,
) -> None:
    """Apply the stage rules to everyone (run after `tenure scores refresh`)."""
    when = _parse_as_of(as_of)
    with Progress(
        TextColumn("[bold]Evaluating stages"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("people", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = evaluate_all_stages(
            session_factory=cli_sessions(), as_of=when, chunk_size=chunk, progress=on_progress
        )
    table = Table(title=f"Stage changes as of {result.as_of:%Y-%m-%d %H:%M} UTC")
    table.add_column("new stage")
    table.add_column("people", justify="right")
    for key, count in sorted(result.by_stage.items(), key=lambda kv: -kv[1]):
        table.add_row(key, f"{count:,}")
    if result.by_stage:
        console.print(table)
    console.print(
        f"[green]{result.people:,} people evaluated, {result.changes:,} stage changes.[/]"
    )
