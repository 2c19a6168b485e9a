"""Entry point of the `tenure` command."""

from __future__ import annotations

import typer

from tenure.cli.commands import duplicates as duplicates_commands
from tenure.cli.commands import events, imports, scores, users, workspace
from tenure.cli.commands import jobs as jobs_commands
from tenure.cli.commands import lifecycle as lifecycle_commands
from tenure.cli.commands import retention as retention_commands
from tenure.cli.commands import segments as segments_commands

app = typer.Typer(
    name="tenure",
    help="Tenure: customer lifecycle management with a built-in CRM.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
workspace.register(app)
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(events.events_app, name="events")
app.add_typer(scores.scores_app, name="scores")
app.add_typer(duplicates_commands.duplicates_app, name="duplicates")
app.add_typer(lifecycle_commands.lifecycle_app, name="lifecycle")
app.add_typer(segments_commands.segments_app, name="segments")
imports.register(app)
retention_commands.register(app)
jobs_commands.register(app)

if __name__ == "__main__":
    app()
