"""workflows: list, show, create from a JSON file, publish, pause, resume, enrol, cancel,
advance due steps now, and the webhook signing secret."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from tenure.automation import actions, queries
from tenure.automation.checks import DefinitionInvalid
from tenure.automation.runner import advance as advance_steps
from tenure.automation.tasks import webhook_secret
from tenure.cli.context import cli_sessions, cli_settings
from tenure.db.session import unit_of_work
from tenure.errors import TenureError

console = Console()
T = TypeVar("T")

workflows_app = typer.Typer(
    help="Workflows: list, show, create, publish, pause, resume, enrol, cancel.",
    no_args_is_help=True,
)

WorkflowId = Annotated[int, typer.Argument(help="The workflow's id (see list).")]


@contextmanager
def _refused() -> Iterator[None]:
    """A refused action prints why (every problem of a definition) and exits 1."""
    try:
        yield
    except DefinitionInvalid as error:
        for problem in error.problems:
            typer.echo(f"{problem.field}: {problem.message}", err=True)
        raise typer.Exit(1)
    except TenureError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1)


def _run(work: Callable[[Any], T]) -> T:
    with _refused(), unit_of_work(cli_sessions()) as session:
        return work(session)


@workflows_app.command("list")
def list_workflows() -> None:
    """Every workflow with its status, published version and enrolments by state."""
    rows = _run(lambda session: queries.workflow_summaries(session))
    table = Table(title="Workflows")
    for column in ("id", "name", "status", "version", "active", "ended"):
        table.add_column(column, justify="right" if column != "name" else "left")
    for row in rows:
        counts = row["enrolments"]
        active = counts.get("active", 0)
        table.add_row(
            str(row["id"]),
            row["name"],
            row["status"],
            str(row["published_version"] or "-"),
            str(active),
            str(sum(counts.values()) - active),
        )
    console.print(table)


@workflows_app.command("show")
def show(workflow_id: WorkflowId) -> None:
    """A workflow as JSON: draft, published definition, versions, people at each step."""
    detail = _run(lambda session: queries.workflow_detail(session, workflow_id))
    typer.echo(json.dumps(detail, indent=2, ensure_ascii=False))


@workflows_app.command("create")
def create(
    file: Annotated[
        Path,
        typer.Option(
            "--file", exists=True, dir_okay=False, help="A JSON file: the workflow's definition."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="The workflow's name.")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish it at once.")] = False,
) -> None:
    """Create a draft workflow from a definition file (and publish it with --publish)."""
    try:
        definition = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        typer.echo(f"{file}: not JSON: {error}", err=True)
        raise typer.Exit(1)

    def work(session: Any) -> tuple[int, int | None]:
        created = actions.create_workflow(session, actor=None, name=name, definition=definition)
        number = None
        if publish:
            number = actions.publish(session, actor=None, workflow_id=created.id).number
        return created.id, number

    workflow_id, number = _run(work)
    said = f", published as version {number}" if number else " (draft)"
    console.print(f"Workflow {workflow_id} created{said}")


@workflows_app.command("publish")
def publish(workflow_id: WorkflowId) -> None:
    """Check the draft and publish it as the next version (people enrolled stay on theirs)."""
    number = _run(lambda s: actions.publish(s, actor=None, workflow_id=workflow_id).number)
    console.print(f"Workflow {workflow_id}: version {number} published")


@workflows_app.command("pause")
def pause(workflow_id: WorkflowId) -> None:
    """Nobody enters and no step runs; people keep their place."""
    _run(lambda s: actions.pause(s, actor=None, workflow_id=workflow_id))
    console.print(f"Workflow {workflow_id} paused")


@workflows_app.command("resume")
def resume(workflow_id: WorkflowId) -> None:
    """Back to active: steps that came due meanwhile run now."""
    _run(lambda s: actions.resume(s, actor=None, workflow_id=workflow_id))
    console.print(f"Workflow {workflow_id} resumed")


@workflows_app.command("archive")
def archive(workflow_id: WorkflowId) -> None:
    """End the workflow: active enrolments are cancelled with their pending steps."""
    _run(lambda s: actions.archive(s, actor=None, workflow_id=workflow_id))
    console.print(f"Workflow {workflow_id} archived")


@workflows_app.command("enrol")
def enrol(
    workflow_id: WorkflowId,
    person: Annotated[int | None, typer.Option("--person", help="A person's id.")] = None,
    segment: Annotated[
        int | None, typer.Option("--segment", help="Every member of this segment.")
    ] = None,
) -> None:
    """Enrol a person or a segment's members by hand (the re-entry policy still holds)."""
    if (person is None) == (segment is None):
        typer.echo("give --person or --segment", err=True)
        raise typer.Exit(2)
    if person is not None:
        count = _run(
            lambda s: actions.enrol_person(s, actor=None, workflow_id=workflow_id, person_id=person)
        )
    else:
        assert segment is not None
        count = _run(
            lambda s: actions.enrol_segment(
                s, actor=None, workflow_id=workflow_id, segment_id=segment
            )
        )
    console.print(f"{count} enrolled in workflow {workflow_id}")


@workflows_app.command("cancel")
def cancel(
    enrolment_id: Annotated[int, typer.Argument(help="The enrolment's id (see show).")],
) -> None:
    """Cancel an active enrolment and its pending steps."""
    _run(lambda s: actions.cancel_enrolment(s, actor=None, enrolment_id=enrolment_id))
    console.print(f"Enrolment {enrolment_id} cancelled")


@workflows_app.command("advance")
def advance() -> None:
    """Run the steps that are due now (what the worker's automation.advance job does)."""
    with _refused():
        done = advance_steps(cli_sessions(), cli_settings())
    console.print(f"{done.ran} steps ran: {done.by_state or 'none due'}")


@workflows_app.command("webhook-secret")
def secret() -> None:
    """The secret call_webhook steps sign with (configure it on the receiving side)."""
    typer.echo(_run(lambda session: webhook_secret(session, cli_settings())))
