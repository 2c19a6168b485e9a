"""events import: append a JSON-lines file of events with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.timeline.jsonl import import_events_jsonl

console = Console()

events_app = typer.Typer(help="Work with the event log.", no_args_is_help=True)


@events_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    show_rejected: Annotated[int, typer.Option(help="How many rejected lines to list.")] = 50,
) -> None:
    """Import FILE.jsonl, one event per line; safe to re-run (idempotent per client_event_id)."""
    size = file.stat().st_size
    factory = cli_sessions()
    with Progress(
        TextColumn("[bold]Importing[/] {task.fields[name]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("import", total=size, name=file.name)
        report = import_events_jsonl(
            path=file,
            session_factory=factory,
            on_progress=lambda done: progress.update(task, completed=done),
        )
    table = Table(title=f"{file.name}")
    table.add_column("lines")
    table.add_column("imported", style="green")
    table.add_column("duplicates", style="yellow")
    table.add_column("rejected", style="red")
    table.add_row(
        f"{report.lines:,}",
        f"{report.imported:,}",
        f"{report.duplicates:,}",
        f"{report.rejected:,}",
    )
    console.print(table)
    if report.rejections:
        rejected = Table(title="Rejected lines")
        rejected.add_column("line", justify="right")
        rejected.add_column("field")
        rejected.add_column("reason")
        for line in report.rejections[:show_rejected]:
            rejected.add_row(str(line.line), line.field, line.reason)
        console.print(rejected)
        if len(report.rejections) > show_rejected:
            console.print(f"... and {len(report.rejections) - show_rejected} more")
    if report.rejected:
        raise typer.Exit(2)
