"""duplicates scan / undo: identity resolution over the whole customer base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.db.session import unit_of_work
from tenure.dedup.matching import MatchConfig
from tenure.dedup.merge import undo_merge
from tenure.dedup.runs import undo_run
from tenure.dedup.scan import pairs_table, scan_duplicates
from tenure.errors import TenureError
from tenure.workspace.actions import set_unique_id_namespaces
from tenure.workspace.queries import unique_id_namespaces

console = Console()
duplicates_app = typer.Typer(
    help="Find duplicate people, merge the certain ones, queue the probable ones.",
    no_args_is_help=True,
)


@duplicates_app.command("scan")
def scan(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Find and decide pairs; merge and queue nothing.")
    ] = False,
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            dir_okay=False,
            writable=True,
            help="Write every pair (both person ids, their external ids, score, decision) "
            "to this CSV file.",
        ),
    ] = None,
    auto_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Merge automatically at or above.")
    ] = MatchConfig.auto_threshold,
    review_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Queue for review at or above.")
    ] = MatchConfig.review_threshold,
) -> None:
    """Detect duplicates over the whole base: merge certain pairs, queue probable ones."""
    try:
        config = MatchConfig(auto_threshold=auto_threshold, review_threshold=review_threshold)
    except ValueError as error:
        raise typer.BadParameter(str(error))
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("Loading people", total=1)

        def on_progress(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=max(total, 1))

        report = scan_duplicates(
            session_factory=cli_sessions(),
            actor_id=None,
            dry_run=dry_run,
            config=config,
            progress=on_progress,
        )
        progress.update(task, description="Done", completed=1, total=1)
    if pairs is not None:
        pairs_table(report).to_csv(pairs, index=False)
    table = Table(title="Dry run: nothing merged or queued" if dry_run else "Duplicate scan")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, value in (
        ("people", report.people),
        ("candidate pairs compared", report.compared_pairs),
        ("pairs to merge automatically", report.auto_pairs),
        ("pairs for review", report.review_pairs),
        ("dismissed before (skipped)", report.dismissed_skipped),
        ("merges made", report.merged),
        ("new pairs in the review queue", report.queued),
        ("merges that failed (left in the queue)", report.merge_failures),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
    console.print(f"Time: {steps}.")
    if pairs is not None:
        console.print(f"Pairs written to {pairs}.")
    if report.run_id is not None:
        console.print(
            f"Merge run {report.run_id}: undo all of it with "
            f"`tenure duplicates undo-run {report.run_id}`."
        )


@duplicates_app.command("undo-run")
def undo_run_command(
    run_id: Annotated[int, typer.Argument(help="The merge run (a scan) to undo.")],
) -> None:
    """Undo every merge of one scan (a merge run), newest first."""
    try:
        with unit_of_work(cli_sessions()) as session:
            result = undo_run(session=session, run_id=run_id, actor_id=None)
    except TenureError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    console.print(f"Merge run {run_id} undone: {len(result['undone'])} merges undone.")
    for note in result["undo_notes"]:  # merges refused, and what could not be restored
        console.print(f"[yellow]{note}[/]")


@duplicates_app.command("undo")
def undo(merge_id: Annotated[int, typer.Argument(help="The merge to undo.")]) -> None:
    """Undo a merge: both people back as they were, with exactly what each owned."""
    try:
        with unit_of_work(cli_sessions()) as session:
            merge = undo_merge(session=session, merge_id=merge_id, actor_id=None)
            survivor, restored = merge.survivor_id, merge.loser_id
    except TenureError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    console.print(f"Merge {merge_id} undone: person {restored} restored beside person {survivor}.")


@duplicates_app.command("id-namespaces")
def id_namespaces(
    namespaces: Annotated[
        list[str] | None,
        typer.Argument(help="The namespaces to declare (replaces the current list)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Declare no namespace.")] = False,
) -> None:
    """Show or set the external-id namespaces that hold one record per person.

    Two people with different ids in such a namespace (a billing system's customer id)
    are never merged automatically; ids of other namespaces (import row ids) are neutral.
    """
    if namespaces and clear:
        raise typer.BadParameter("give namespaces or --clear, not both")
    if namespaces or clear:
        try:
            with unit_of_work(cli_sessions()) as session:
                stored = set_unique_id_namespaces(
                    session=session, namespaces=namespaces or [], actor=None
                )
        except TenureError as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(1)
    else:
        with cli_sessions()() as session:
            stored = unique_id_namespaces(session)
    shown = ", ".join(stored) if stored else "none"
    console.print(f"One-record-per-person id namespaces: {shown}")
