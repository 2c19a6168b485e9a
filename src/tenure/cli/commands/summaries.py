"""summaries rebuild: build the read model of every person whose summary is stale or missing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tenure.cli.context import cli_sessions
from tenure.cli.options import progress_bar
from tenure.db.session import unit_of_work
from tenure.summaries.rebuild import add_missing, mark_all_stale, rebuild_stale, stale_count

console = Console()

summaries_app = typer.Typer(
    help="The customer read model: one summary per person (the 360 view, the people list).",
    no_args_is_help=True,
)


def rebuild_summaries(*, everyone: bool = False) -> int:
    """Add the missing rows (and with ``everyone`` mark every row stale), then rebuild the
    stale ones with a progress bar; returns how many were built."""
    factory = cli_sessions()
    with unit_of_work(factory) as session:
        add_missing(session)
        if everyone:
            mark_all_stale(session)
        total = stale_count(session)
    if not total:
        return 0
    with progress_bar(console) as progress:
        task = progress.add_task("Building summaries", total=total)
        return rebuild_stale(factory, progress=lambda built: progress.advance(task, built))


@summaries_app.command("rebuild")
def rebuild(
    everyone: Annotated[
        bool,
        typer.Option("--all", help="Rebuild every summary, not only the stale and missing."),
    ] = False,
) -> None:
    """Build the summaries that are stale or missing (after an upgrade, or to catch up
    without the job runner)."""
    built = rebuild_summaries(everyone=everyone)
    console.print(f"[green]{built:,} summaries built.[/]")
