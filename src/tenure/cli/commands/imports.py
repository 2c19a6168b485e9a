"""import and export: bring people, companies and email in, take people and events out.

Every import prints a progress bar and a report, records itself in the imports table,
and is safe to run again: an import that was stopped resumes where it stopped, a
completed one updates what changed and duplicates nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tenure.cli.context import cli_sessions, cli_settings
from tenure.cli.options import progress_bar
from tenure.customers.queries import PeopleFilter
from tenure.errors import TenureError
from tenure.exports.streaming import EventFilter, export_events, export_people
from tenure.ingest.actions import import_upload
from tenure.ingest.csv_import import path_opener
from tenure.ingest.presets import (
    ORGANIZATION_BUILTINS,
    ORGANIZATION_FIELDS,
    PERSON_BUILTINS,
    PERSON_FIELDS,
    PRESETS,
)
from tenure.ingest.runner import CHUNK_SIZE, ImportReport
from tenure.workspace.settings import phone_region

console = Console()
import_app = typer.Typer(help="Import people, companies, email and events.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export people and events (CSV, JSON lines, Parquet).", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would change; write nothing.")]
ChunkSize = Annotated[
    int, typer.Option(min=1, help="Rows per transaction: a stopped import resumes after one.")
]
ShowRejected = Annotated[int, typer.Option(help="How many rejected rows to list.")]
# The --map targets, from the lists the import itself checks (ingest.csv_import.parse_target).
MAP_TARGETS = (
    f"People: {', '.join((*PERSON_FIELDS, *PERSON_BUILTINS))}, email, phone, "
    "external (the record id in --source) or external:SYSTEM, organization_ref[:SYSTEM] "
    "(the id of the person's company), social:NETWORK, attribute:KEY (a declared custom "
    "attribute, or one named by --declare), ignore. "
    f"Companies (a company preset): {', '.join((*ORGANIZATION_FIELDS, *ORGANIZATION_BUILTINS))}, "
    "external[:SYSTEM], attribute:KEY, ignore. "
    'Example: --map "Cust No=external:shopify" --map "Plan=attribute:plan".'
)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


def _run(
    file: Path, *, format: str, chunk_size: int, show_rejected: int, dry_run: bool, **options: Any
) -> None:
    """Run ``import_upload`` on a file on disk, with a progress bar over its bytes."""
    with cli_sessions()() as session:
        region = phone_region(session, cli_settings())
    try:
        with progress_bar(console, over_bytes=True) as progress:
            task = progress.add_task(
                "Checking" if dry_run else "Importing", total=None, name=file.name
            )
            report = import_upload(
                session_factory=cli_sessions(),
                actor=None,
                format=format,
                opener=path_opener(file),
                file_name=file.name,
                default_region=region,
                dry_run=dry_run,
                chunk_size=chunk_size,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                **options,
            )
    except TenureError as error:
        raise _fail(error)
    _print_report(report, show_rejected)
    if report.rejected:
        raise typer.Exit(2)


def _print_report(report: ImportReport, show_rejected: int) -> None:
    title = "Dry run: nothing written" if report.dry_run else f"Import {report.import_id}"
    if report.resumed:
        title += " (resumed)"
    table = Table(title=title)
    for name, style in (
        ("created", "green"),
        ("duplicates", "yellow"),
        ("updated", "cyan"),
        ("unchanged", ""),
        ("rejected", "red"),
    ):
        table.add_column(name, style=style, justify="right")
    counts = report.counts()
    table.add_row(*(f"{counts[c]:,}" for c in counts))
    console.print(table)
    if report.organizations_created:
        console.print(f"{report.organizations_created:,} organizations created")
    rejected = [i for i in report.issues if i.kind == "rejected"]
    duplicates = [i for i in report.issues if i.kind == "duplicate"]
    for heading, issues in (("Rejected rows", rejected), ("Probable duplicates", duplicates)):
        if not issues:
            continue
        listing = Table(title=heading)
        listing.add_column("line", justify="right")
        listing.add_column("column")
        listing.add_column("reason")
        for issue in issues[:show_rejected]:
            reason = issue.reason
            if issue.person_id:
                reason += f" (person {issue.person_id})"
            listing.add_row(str(issue.line), issue.column, reason)
        console.print(listing)


def _fail(error: TenureError) -> typer.Exit:
    console.print(f"[red]{error}[/]")
    return typer.Exit(1)


@import_app.command("csv")
def import_csv(
    file: FileArg,
    preset: Annotated[
        str | None, typer.Option(help=f"Column names of a CRM export: {', '.join(PRESETS)}.")
    ] = None,
    map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=TARGET",
            help="Send a column to a target, repeat for each column (overrides the preset "
            "and the detected headers). " + MAP_TARGETS,
        ),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Source system whose record ids an 'external' column holds.")
    ] = "",
    declare: Annotated[
        list[str] | None, typer.Option(help="Declare this custom attribute as text if it is not.")
    ] = None,
    dry_run: DryRun = False,
    chunk_size: ChunkSize = CHUNK_SIZE,
    show_rejected: ShowRejected = 50,
) -> None:
    """Import people (or companies, with a company preset) from a CSV file."""
    overrides: dict[str, str] = {}
    for item in map or []:
        column, sep, target = item.rpartition("=")
        if not sep or not column:
            console.print(f'[red]--map {item!r}: write "Column=target"[/]')
            raise typer.Exit(1)
        overrides[column.strip()] = target.strip()
    _run(
        file,
        format="csv",
        dry_run=dry_run,
        chunk_size=chunk_size,
        show_rejected=show_rejected,
        preset=preset,
        mapping=overrides,
        namespace=source,
        declare=set(declare or []),
    )


@import_app.command("vcard")
def import_vcard(
    file: FileArg,
    dry_run: DryRun = False,
    chunk_size: ChunkSize = CHUNK_SIZE,
    show_rejected: ShowRejected = 50,
) -> None:
    """Import people from a vCard 3.0 or 4.0 file (.vcf)."""
    _run(file, format="vcard", dry_run=dry_run, chunk_size=chunk_size, show_rejected=show_rejected)


@import_app.command("jsonl")
def import_jsonl(
    file: FileArg,
    dry_run: DryRun = False,
    chunk_size: ChunkSize = CHUNK_SIZE,
    show_rejected: ShowRejected = 50,
) -> None:
    """Import people from JSON lines, one POST /api/v1/people body per line."""
    _run(file, format="jsonl", dry_run=dry_run, chunk_size=chunk_size, show_rejected=show_rejected)


@import_app.command("email")
def import_email(
    file: FileArg,
    our_domain: Annotated[
        list[str] | None, typer.Option(help="A domain of ours (messages from it are 'sent').")
    ] = None,
    dry_run: DryRun = False,
    chunk_size: ChunkSize = 500,
    show_rejected: ShowRejected = 50,
) -> None:
    """Import an .eml message or an .mbox archive as email events on people's timelines."""
    _run(
        file,
        format="email",
        dry_run=dry_run,
        chunk_size=chunk_size,
        show_rejected=show_rejected,
        our_domains=our_domain or [],
    )


@import_app.command("events")
def import_events(file: FileArg, show_rejected: ShowRejected = 50) -> None:
    """Import events from JSON lines (the same as `tenure events import`)."""
    from tenure.cli.commands.events import import_file

    import_file(file=file, show_rejected=show_rejected)


Format = Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="File to write.")]


def _write(output: Path, chunks: object, what: str) -> None:
    written = 0
    with output.open("wb") as handle, console.status(f"Exporting {what}"):
        for chunk in chunks:  # type: ignore[attr-defined]
            handle.write(chunk)
            written += len(chunk)
    console.print(f"[green]Wrote[/] {output} ({written:,} bytes)")


def _check_format(format: str) -> None:
    if format not in ("csv", "jsonl", "parquet"):
        console.print("[red]--format must be csv, jsonl or parquet[/]")
        raise typer.Exit(1)


@export_app.command("people")
def export_people_command(
    output: Output,
    format: Format = "csv",
    q: Annotated[str | None, typer.Option(help="Substring of name or identity.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only people with this tag.")] = None,
    owner_id: Annotated[int | None, typer.Option(help="Only people this user owns.")] = None,
    organization_id: Annotated[
        int | None, typer.Option(help="Only people of this organization.")
    ] = None,
    created_from: Annotated[
        datetime | None, typer.Option(help="Only people created at or after this time.")
    ] = None,
    created_to: Annotated[
        datetime | None, typer.Option(help="Only people created before this time.")
    ] = None,
) -> None:
    """Export people (with identities, attributes, tags, consents), filtered like the API."""
    _check_format(format)
    filters = PeopleFilter(
        q=q,
        tag=tag,
        owner_id=owner_id,
        organization_id=organization_id,
        created_from=created_from,
        created_to=created_to,
    )
    _write(output, export_people(cli_sessions(), format=format, filters=filters), "people")


@export_app.command("events")
def export_events_command(
    output: Output,
    format: Format = "csv",
    type: Annotated[
        list[str] | None, typer.Option("--type", help="Only these event types.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only events of people with this tag.")] = None,
    occurred_from: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time.")
    ] = None,
    occurred_to: Annotated[
        datetime | None, typer.Option(help="Only events before this time.")
    ] = None,
) -> None:
    """Export events, filtered by type, time and the people they belong to."""
    _check_format(format)
    filters = EventFilter(
        people=PeopleFilter(tag=tag),
        types=tuple(type or []),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    _write(output, export_events(cli_sessions(), format=format, filters=filters), "events")
