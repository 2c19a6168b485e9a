"""The application factory: one process serves the API, the pages and static files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import tenure
import tenure.all_models
from tenure.all_tasks import schedules
from tenure.config import MIN_SECRET_LENGTH, Settings, get_settings
from tenure.db.engine import create_db_engine
from tenure.db.loop_reader import LoopReader
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.secret_key import ensure_secret_key
from tenure.jobs.worker import Worker, start_in_thread
from tenure.registrations import register_all
from tenure.web.api import API_PREFIX, api_routers
from tenure.web.body_limits import BodyLimitMiddleware
from tenure.web.docs import install_docs
from tenure.web.errors import install_error_handlers
from tenure.web.login import PageSessionMiddleware
from tenure.web.openapi import install_openapi
from tenure.web.options import AllowOnOptions
from tenure.web.pages import page_routers, public_routers
from tenure.web.security import require_csrf
from tenure.web.text_params import refuse_nul_parameters

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, run_jobs: bool = False
) -> FastAPI:
    """The app; ``run_jobs`` starts the embedded job worker with it (``tenure serve``)."""
    register_all()
    settings = settings or get_settings()
    engine = engine or create_db_engine(
        settings.database_url,
        statement_timeout_seconds=settings.statement_timeout_seconds,
        busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
        pool_size=pool_size(settings),
    )
    app = FastAPI(
        lifespan=_lifespan(settings, engine, run_jobs=run_jobs),
        title="Tenure",
        version=tenure.__version__,
        description="Customer lifecycle management with a built-in CRM.",
        openapi_url="/openapi.json",
        docs_url=None,  # web.docs serves it with the vendored Swagger UI
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.loop_reader = LoopReader(engine, app.state.session_factory)
    app.add_middleware(
        PageSessionMiddleware,
        secret_key=_signing_key(settings, app.state.session_factory),
        session_cookie="tenure_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.env == "production",
    )
    # Added last, so it runs first: nothing reads a body before the count starts.
    app.add_middleware(AllowOnOptions)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    install_error_handlers(app)
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(refuse_nul_parameters)])
    for router in page_routers:
        app.include_router(
            router, dependencies=[Depends(require_csrf), Depends(refuse_nul_parameters)]
        )
    for router in public_routers:
        app.include_router(router, dependencies=[Depends(refuse_nul_parameters)])
    install_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_openapi(app)
    return app


def _signing_key(settings: Settings, factory: sessionmaker[Session]) -> str:
    """TENURE_SECRET_KEY if set, else the random key stored in the database."""
    if settings.secret_key is not None:
        if settings.secret_key_is_weak:
            logger.warning(
                "TENURE_SECRET_KEY is a placeholder or shorter than %d characters: anyone "
                "who guesses it can forge a login session. Unset it to use the random key "
                "stored in the database, or set a random one.",
                MIN_SECRET_LENGTH,
            )
        return settings.secret_key
    with unit_of_work(factory) as session:
        return ensure_secret_key(session)


def pool_size(settings: Settings) -> int:
    """Connections one server process keeps: one per handler thread, two per job the
    embedded worker runs (its claim connection and the job's session), and a few for the
    event loop (authentication misses, page look-ups) and the worker's own loop.

    Sized so that the event loop never waits for a connection held by a thread.
    """
    return settings.web_threads + 2 * settings.worker_concurrency + 4


def _lifespan(settings: Settings, engine: Engine, *, run_jobs: bool) -> Any:
    """Size the thread pool that runs the handlers; with ``run_jobs``, run a job worker in
    a thread while the server runs.

    Handlers are plain ``def`` functions, which FastAPI runs on AnyIO's thread pool, so
    a long request (a report, an export, an import, a write waiting for SQLite's lock)
    takes one thread and the event loop keeps serving the others (docs/architecture.md,
    "Requests and threads"). Stopping the server (SIGTERM to uvicorn) stops the worker
    gracefully: running jobs finish within the grace period or go back to the queue. The
    event loop's own reads by key share one connection while the app runs
    (``db.loop_reader``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        app.state.loop_reader.open()
        try:
            if not run_jobs:
                yield
                return
            async with _embedded_worker(app, settings, engine):
                yield
        finally:
            app.state.loop_reader.close()

    return lifespan


@asynccontextmanager
async def _embedded_worker(app: FastAPI, settings: Settings, engine: Engine) -> AsyncIterator[None]:
    worker = Worker(
        engine=engine,
        settings=settings,
        concurrency=settings.worker_concurrency,
        schedules=schedules(settings),
    )
    thread = start_in_thread(worker)
    app.state.worker = worker
    try:
        yield
    finally:
        worker.stop()
        await asyncio.to_thread(thread.join, worker.grace_seconds + 5)
