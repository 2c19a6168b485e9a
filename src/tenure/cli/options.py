"""Options and progress bars that several commands share, defined once.

``AsOf`` is the ``--as-of`` of every command that computes something at a moment (scores,
stages, retention, segments): parsed to an aware datetime, with one reading of a bare date.
``progress_bar`` is the bar of long commands, over items or over the bytes of a file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def parse_as_of(value: str | None) -> datetime | None:
    """An ISO date or time; UTC unless it says otherwise. A bare date is the end of that day
    (23:59:59), so ``--as-of 2026-06-30`` includes the events of June 30th."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO date or time, e.g. 2026-06-30 or 2026-06-30T12:00Z")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
        if len(value) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        parser=parse_as_of,
        metavar="DATE",
        help="As of this date or time (UTC unless given; a bare date is the end of that day); "
        "default now, or the fixed day of a demo workspace.",
    ),
]


def progress_bar(console: Console, *, over_bytes: bool = False) -> Progress:
    """A bar with the task's description: ``n/total`` items and the time spent, or, over
    the bytes of a file, the bytes read and the time left."""
    if over_bytes:
        return Progress(
            TextColumn("[bold]{task.description}[/] {task.fields[name]}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
        )
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
