"""init, serve and demo: setting up and serving a workspace."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from tenure.all_tasks import run_nightly_now
from tenure.cli.commands.summaries import rebuild_summaries
from tenure.cli.context import cli_engine, cli_sessions, cli_settings
from tenure.config import get_settings
from tenure.datasets.demo import build_demo_workspace, database_is_empty
from tenure.db.migrate import upgrade_database
from tenure.db.session import unit_of_work
from tenure.identity.secret_key import ensure_secret_key
from tenure.lifecycle.defaults import ensure_default_model
from tenure.messaging.templating.library import seed_library
from tenure.segments.builtins import ensure_builtin_segments
from tenure.workspace.queries import ensure_workspace

console = Console()


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("demo")(demo)


def init(
    demo_if_empty: Annotated[
        bool,
        typer.Option("--demo-if-empty", help="Load the demo workspace into an empty database."),
    ] = False,
) -> None:
    """Create or migrate the database to the current schema."""
    engine = cli_engine()
    upgrade_database(engine)
    console.print(f"[green]Database ready[/] at {engine.url.render_as_string(hide_password=True)}")
    factory = cli_sessions()
    with unit_of_work(factory) as session:
        empty = database_is_empty(session)
        ensure_workspace(session)
        ensure_secret_key(session)  # signs login cookies unless TENURE_SECRET_KEY is set
        # Created here, in a writer's transaction, so that the first page views and lists
        # only read: a read transaction that has to write on SQLite can fail at once.
        ensure_default_model(session)
        ensure_builtin_segments(session)
        seed_library(session)
    if demo_if_empty and empty:
        _build_demo()
    # The read model of people who have none yet (an upgraded database); nothing to do
    # once built, since writers keep it current.
    built = rebuild_summaries()
    if built:
        console.print(f"[green]{built:,} person summaries built[/]")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL at scale).")] = 1,
    jobs: Annotated[
        bool,
        typer.Option(
            "--jobs/--no-jobs",
            help="Run a job worker inside the server (embedded mode); --no-jobs when "
            "`tenure worker` processes run the jobs.",
        ),
    ] = True,
) -> None:
    """Serve the web app and the API (and, by default, run the jobs)."""
    import uvicorn

    if not jobs:
        # Read by the app's settings in each server process (tenure.web.main), so set
        # before anything reads the settings: they are cached on first use, and read first
        # (the key check below) they kept the embedded worker on with --no-jobs.
        os.environ["TENURE_EMBEDDED_WORKER"] = "false"
        get_settings.cache_clear()
    if cli_settings().secret_key_is_weak:
        console.print(
            "[bold red]WARNING: TENURE_SECRET_KEY is a placeholder or too short; anyone who "
            "guesses it can forge a login. Unset it to use the random key in the database.[/]"
        )

    console.print(f"Serving Tenure on [bold]http://{host}:{port}[/]")
    uvicorn.run(
        "tenure.web.main:app",
        host=host,
        port=port,
        workers=workers,
        # A worker answers the supervisor's health ping only once it has imported the app
        # (measured 3-10 s on a busy 2-core machine); uvicorn's default of 5 s killed and
        # restarted every worker in a loop before it could serve.
        timeout_worker_healthcheck=60,
        log_level="info",
        access_log=False,
    )


def demo() -> None:
    """Load the demo workspace (real CDNOW purchases, generated people) into an empty database."""
    engine = cli_engine()
    upgrade_database(engine)
    with unit_of_work(cli_sessions()) as session:
        if not database_is_empty(session):
            console.print(
                "[red]The database already holds people; demo data goes into an empty one.[/]"
            )
            raise typer.Exit(1)
    _build_demo()


def _build_demo() -> None:
    summary = build_demo_workspace(engine=cli_engine(), settings=cli_settings(), console=console)
    # A demo is only convincing with its analytics filled in: run the nightly chain
    # (scores, stages, segments, retention, next best action) now, as jobs, before serving.
    with console.status("Computing scores, stages, segments, risk and next best actions"):
        worker = run_nightly_now(cli_engine(), cli_settings())
    if worker.failed:
        console.print(
            f"[yellow]{worker.failed} job(s) failed; `tenure jobs list` shows why "
            "(they are retried by `tenure serve`).[/]"
        )
    # The chain's last steps open tasks on people: their summaries, rebuilt now.
    rebuild_summaries()
    console.print(
        f"[green]Demo workspace ready:[/] {summary.people:,} people "
        f"({summary.planted_duplicates:,} planted duplicates to find), "
        f"{summary.orders:,} orders, {summary.organizations} organizations. "
        f"Log in as [bold]{summary.admin_email}[/] "
        f"with password [bold]{summary.admin_password}[/]."
    )
