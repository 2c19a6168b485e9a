"""Entry point of the `tenure` command."""

from __future__ import annotations

import typer

import tenure.all_models  # noqa: F401  (a composition root registers every table)
from tenure.cli.commands import duplicates as duplicates_commands
from tenure.cli.commands import events, imports, scores, users, workspace
from tenure.cli.commands import jobs as jobs_commands
from tenure.cli.commands import lifecycle as lifecycle_commands
from tenure.cli.commands import retention as retention_commands
from tenure.cli.commands import segments as segments_commands
from tenure.cli.commands import summaries as summaries_commands
from tenure.cli.commands import templates as templates_commands
from tenure.cli.commands import workflows as workflows_commands
from tenure.registrations import register_all

app = typer.Typer(
    name="tenure",
    help="Tenure: customer lifecycle management with a built-in CRM.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
# Event reactions and profile cards, before any command appends events (the job runner
# runs inside the CLI too).
register_all()
workspace.register(app)
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(events.events_app, name="events")
app.add_typer(scores.scores_app, name="scores")
app.add_typer(duplicates_commands.duplicates_app, name="duplicates")
app.add_typer(lifecycle_commands.lifecycle_app, name="lifecycle")
app.add_typer(segments_commands.segments_app, name="segments")
app.add_typer(summaries_commands.summaries_app, name="summaries")
app.add_typer(templates_commands.templates_app, name="templates")
app.add_typer(workflows_commands.workflows_app, name="workflows")
imports.register(app)
retention_commands.register(app)
jobs_commands.register(app)

if __name__ == "__main__":
    app()
