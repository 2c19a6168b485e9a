"""templates: list and show email templates, check a template file before saving it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tenure.cli.context import cli_sessions
from tenure.db.session import unit_of_work
from tenure.errors import NotFound
from tenure.messaging.templating import actions, queries
from tenure.messaging.templating.checks import check_source
from tenure.messaging.templating.context import schema_for

console = Console()

templates_app = typer.Typer(
    help="Email templates: list, show, validate a file.", no_args_is_help=True
)


@templates_app.command("list")
def list_templates(
    archived: Annotated[bool, typer.Option("--archived", help="The archived ones.")] = False,
) -> None:
    """Every template with its purpose and current version (the library on first use)."""
    with unit_of_work(cli_sessions()) as session:
        actions.ensure_library(session)
        rows = queries.list_templates(session, archived=archived)
    table = Table(title="Archived templates" if archived else "Templates")
    for column in ("id", "name", "purpose", "version", "updated"):
        table.add_column(column, justify="right" if column in ("id", "version") else "left")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["purpose"],
            str(row["version"]["number"]),
            f"{row['updated_at']:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@templates_app.command("show")
def show(
    template_id: Annotated[int, typer.Argument(help="The template's id (see list).")],
    version: Annotated[
        int | None, typer.Option("--version", help="This version instead of the current.")
    ] = None,
) -> None:
    """A template's subject and HTML body (current version, or --version N)."""
    with unit_of_work(cli_sessions()) as session:
        try:
            template = queries.get_template(session, template_id)
            shown = (
                queries.get_version(session, template_id, version)
                if version is not None
                else template["version"]
            )
        except NotFound as error:
            console.print(f"[red]{error}[/]")
            raise typer.Exit(1)
    console.print(
        f"[bold]{template['name']}[/] ({template['purpose']}), version {shown['number']}"
        f" of {template['version']['number']}"
    )
    typer.echo(f"Subject: {shown['subject']}\n")
    typer.echo(shown["html"])


@templates_app.command("validate")
def validate(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="An HTML body template.")
    ],
    subject: Annotated[
        str | None, typer.Option("--subject", help="Check this subject template too.")
    ] = None,
) -> None:
    """Check a template file as saving it would (syntax, fields, sandbox); exit 1 and list
    every problem with its line if it would be refused."""
    html = file.read_text(encoding="utf-8")
    with unit_of_work(cli_sessions()) as session:
        schema = schema_for(session)
    problems = check_source(html, field="html", root=schema)
    if subject is not None:
        problems = check_source(subject, field="subject", root=schema) + problems
    if not problems:
        console.print(f"[green]{file}: the template is valid[/]")
        return
    for problem in problems:
        where = f"line {problem.line}: " if problem.line else ""
        typer.echo(f"{file}: {problem.field}: {where}{problem.message}", err=True)
    raise typer.Exit(1)
