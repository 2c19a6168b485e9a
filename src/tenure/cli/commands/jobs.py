"""worker and jobs list|retry|cancel: running and inspecting the job queue."""

from __future__ import annotations

import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tenure.all_tasks import schedules
from tenure.cli.context import cli_engine, cli_sessions, cli_settings
from tenure.db.session import unit_of_work
from tenure.errors import Conflict, NotFound
from tenure.jobs import actions, queries
from tenure.jobs.worker import Worker

console = Console()

jobs_app = typer.Typer(help="The job queue: list, retry and cancel jobs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, max=64, help="Jobs run at once (default: setting)."),
    ] = None,
    queues: Annotated[
        list[str] | None,
        typer.Option("--queues", help="Only these queues (repeat the option); default all."),
    ] = None,
) -> None:
    """Run jobs until SIGTERM or Ctrl-C (which finish or release the current jobs)."""
    settings = cli_settings()
    runner = Worker(
        engine=cli_engine(),
        settings=settings,
        concurrency=concurrency or settings.worker_concurrency,
        queues=tuple(queues) if queues else None,
        schedules=schedules(settings),
    )

    def stop(signum: int, _frame: object) -> None:
        console.print(f"[yellow]{signal.Signals(signum).name}: finishing the running jobs[/]")
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"Worker [bold]{runner.name}[/] running (concurrency {runner.concurrency})")
    runner.run()
    console.print(f"Stopped: {runner.completed:,} jobs completed, {runner.failed:,} failed.")


@jobs_app.command("list")
def list_jobs(
    state: Annotated[
        str | None, typer.Option("--state", help="queued, running, succeeded, dead, cancelled.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many of the newest jobs to list.")
    ] = 30,
) -> None:
    """Queue health, the newest jobs and the schedules."""
    if state is not None and state not in queries.STATES:
        raise typer.BadParameter(f"state must be one of {', '.join(queries.STATES)}")
    with unit_of_work(cli_sessions()) as session:
        health = queries.queue_health(session)
        rows = [queries.job_dict(j) for j in queries.list_jobs(session, state=state, limit=limit)]
        plans = queries.list_schedules(session)
    counts = ", ".join(f"{k} {v:,}" for k, v in health["counts"].items())
    console.print(f"Jobs: {counts}; queue lag {health['lag_seconds']:.0f} s")
    table = Table(title="Jobs")
    for column in ("id", "task", "state", "attempts", "run at", "error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["task"],
            row["state"],
            f"{row['attempts']}/{row['max_attempts']}",
            f"{row['run_at']:%Y-%m-%d %H:%M:%S}",
            (row["error"] or "")[:80],
        )
    console.print(table)
    for plan in plans:
        last = f"{plan['last_run_at']:%Y-%m-%d %H:%M}" if plan["last_run_at"] else "never"
        console.print(
            f"Schedule [bold]{plan['name']}[/] ({plan['cron']}): {plan['task']}"
            f"{' -> ' + ' -> '.join(plan['then']) if plan['then'] else ''}; last {last}, "
            f"next {plan['next_run_at']:%Y-%m-%d %H:%M} UTC"
        )


def _change(action: str, job_id: int) -> None:
    try:
        with unit_of_work(cli_sessions()) as session:
            change = actions.retry_job if action == "retry" else actions.cancel_job
            job = change(session=session, job_id=job_id, actor=None)
            state = job.state
    except (NotFound, Conflict) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1)
    console.print(f"[green]Job {job_id} is {state}.[/]")


@jobs_app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="The job's id.")]) -> None:
    """Queue a dead or cancelled job again."""
    _change("retry", job_id)


@jobs_app.command("cancel")
def cancel(job_id: Annotated[int, typer.Argument(help="The job's id.")]) -> None:
    """Cancel a queued or running job."""
    _change("cancel", job_id)
