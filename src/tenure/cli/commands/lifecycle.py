"""lifecycle evaluate: re-place every person in their stage, with a progress bar."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.cli.options import AsOf, progress_bar
from tenure.lifecycle.actions import evaluate_all_stages

console = Console()

lifecycle_app = typer.Typer(
    help="Lifecycle stages: evaluate the stage rules.", no_args_is_help=True
)


@lifecycle_app.command("evaluate")
def evaluate(
    as_of: AsOf = None,
    chunk: Annotated[
        int, typer.Option("--chunk", min=100, help="People per transaction.")
    ] = 50_000,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Place everyone, not only the people whose inputs changed since the "
            "last placement at the same time.",
        ),
    ] = False,
) -> None:
    """Apply the stage rules to the people whose inputs changed since the last run (to
    everyone with --full, or when the time or the rules changed)."""
    with progress_bar(console) as progress:
        task = progress.add_task("Evaluating stages", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = evaluate_all_stages(
            session_factory=cli_sessions(),
            as_of=as_of,
            chunk_size=chunk,
            progress=on_progress,
            full=full,
        )
    table = Table(title=f"Stage changes as of {result.as_of:%Y-%m-%d %H:%M} UTC")
    table.add_column("new stage")
    table.add_column("people", justify="right")
    for key, count in sorted(result.by_stage.items(), key=lambda kv: -kv[1]):
        table.add_row(key, f"{count:,}")
    if result.by_stage:
        console.print(table)
    scope = "everyone" if result.full else "people whose inputs changed"
    console.print(
        f"[green]{result.people:,} people evaluated ({scope}), {result.changes:,} stage changes.[/]"
    )
