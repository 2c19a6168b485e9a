"""scores refresh: recompute every customer's scores and the model reports."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.cli.context import cli_sessions, cli_settings
from tenure.cli.options import AsOf
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.scores.refresh import STEPS, refresh_scores

console = Console()

scores_app = typer.Typer(help="Customer scores: RFM, CLV, P(alive), churn.", no_args_is_help=True)


@scores_app.command("refresh")
def refresh(
    as_of: AsOf = None,
) -> None:
    """Aggregate orders in the database, fit BG/NBD, Gamma-Gamma and churn, store scores."""
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
            session_factory=cli_sessions(), settings=cli_settings(), as_of=as_of, progress=on_step
        )
        progress.update(task, completed=len(STEPS), description="Done")
    # Lifecycle rules read P(alive), churn and CLV: re-place everyone on the new scores
    # (the nightly chain does the same as its next job).
    with console.status("Re-placing lifecycle stages"):
        evaluate_all_stages(session_factory=cli_sessions(), as_of=result.as_of, full=False)
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
