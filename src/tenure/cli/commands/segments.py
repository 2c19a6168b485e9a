"""segments: list, preview, create and refresh segments from the shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from tenure.cli.context import cli_sessions, cli_settings
from tenure.cli.options import AsOf, progress_bar
from tenure.db.session import unit_of_work
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.segments import actions, queries
from tenure.segments.builtins import ensure_builtin_segments
from tenure.segments.models import Segment
from tenure.segments.schemas import SegmentCreate
from tenure.workspace.settings import currency as workspace_currency

console = Console()

segments_app = typer.Typer(
    help="Segments: filters over people, static lists, RFM segments.", no_args_is_help=True
)


def _fail(error: Exception) -> None:
    console.print(f"[red]{error}[/]")
    raise typer.Exit(1)


@segments_app.command("list")
def list_segments() -> None:
    """Every segment with its kind, members and last refresh."""
    with unit_of_work(cli_sessions()) as session:
        ensure_builtin_segments(session)
        rows = [queries.segment_dict(s) for s in queries.list_segments(session)]
    table = Table(title="Segments")
    for column in ("id", "name", "kind", "members", "refreshed", "filter"):
        table.add_column(column, justify="right" if column in ("id", "members") else "left")
    for row in rows:
        kind = "built-in" if row["builtin"] else row["kind"]
        refreshed = row["refreshed_at"]
        table.add_row(
            str(row["id"]),
            row["name"],
            kind,
            f"{row['member_count']:,}",
            f"{refreshed:%Y-%m-%d %H:%M}" if refreshed else "never",
            row["filter"] or "",
        )
    console.print(table)


@segments_app.command("refresh")
def refresh(
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only this segment (id or name).")
    ] = None,
    as_of: AsOf = None,
) -> None:
    """Recompute dynamic segments; entries and exits go on the timeline as events."""
    factory = cli_sessions()
    with factory() as session:
        currency = workspace_currency(session, cli_settings())
    if segment is not None:
        try:
            with unit_of_work(factory) as session:
                found = _find(session, segment)
                change = actions.refresh_segment(
                    session=session, segment_id=found, currency=currency, as_of=as_of
                )
        except (InvalidInput, Conflict, NotFound) as error:
            _fail(error)
        _print_changes([change], {})
        return
    with progress_bar(console) as progress:
        task = progress.add_task("Refreshing segments", total=None)

        def on_segment(name: str, index: int, total: int) -> None:
            progress.update(task, description=name, completed=index, total=total)

        changes, failed = actions.refresh_all_segments(
            session_factory=factory, currency=currency, as_of=as_of, progress=on_segment
        )
        progress.update(task, description="Done", completed=len(changes) + len(failed))
    _print_changes(changes, failed)
    if failed:
        raise typer.Exit(1)


def _find(session, reference: str) -> int:  # type: ignore[no-untyped-def]
    query = select(Segment.id).where(Segment.name == reference)
    if reference.isdigit():
        query = select(Segment.id).where(Segment.id == int(reference))
    found = session.scalar(query)
    if found is None:
        raise NotFound("segment", reference)
    return int(found)


def _print_changes(changes: list, failed: dict[str, str]) -> None:  # type: ignore[type-arg]
    table = Table(title="Refreshed")
    for column in ("segment", "members", "entered", "exited"):
        table.add_column(column, justify="left" if column == "segment" else "right")
    for change in changes:
        table.add_row(
            change.name, f"{change.members:,}", f"{change.entered:,}", f"{change.exited:,}"
        )
    console.print(table)
    for name, reason in failed.items():
        console.print(f"[red]{name}: {reason}[/]")


@segments_app.command("preview")
def preview(
    filter: Annotated[str, typer.Argument(help="A filter, e.g. 'tag = \"vip\"'.")],
    as_of: AsOf = None,
) -> None:
    """Count the people a filter selects, with a sample, without saving anything."""
    try:
        with unit_of_work(cli_sessions()) as session:
            result = queries.preview(
                session,
                filter=filter,
                currency=workspace_currency(session, cli_settings()),
                as_of=as_of,
            )
    except InvalidInput as error:
        _fail(error)
    console.print(
        f"[bold]{result['count']:,}[/] people match as of {result['as_of']:%Y-%m-%d %H:%M} UTC"
    )
    for person in result["sample"]:
        name = f"{person['first_name']} {person['last_name']}".strip() or "(no name)"
        console.print(f"  {person['id']:>8}  {name}")


@segments_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The segment's name.")],
    filter: Annotated[
        str | None, typer.Option("--filter", help="A dynamic segment's filter.")
    ] = None,
    static: Annotated[
        bool, typer.Option("--static", help="A static list (add people through the API or page).")
    ] = False,
    description: Annotated[str, typer.Option(help="What the segment is for.")] = "",
) -> None:
    """Create a dynamic segment (computing its members) or an empty static list."""
    try:
        data = SegmentCreate(
            name=name,
            description=description,
            kind="static" if static else "dynamic",
            filter=filter,
        )
        with unit_of_work(cli_sessions()) as session:
            segment, change = actions.create_segment(
                session=session,
                data=data,
                actor=None,
                currency=workspace_currency(session, cli_settings()),
            )
            segment_id = segment.id
    except (InvalidInput, Conflict) as error:
        _fail(error)
    console.print(f"[green]Created segment {segment_id}[/] with {change.members:,} members.")
