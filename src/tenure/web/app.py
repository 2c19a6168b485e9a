"""The application factory: one process serves the API, the pages and static files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

import tenure
from tenure.all_tasks import schedules
from tenure.config import Settings, get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.jobs.worker import Worker, start_in_thread
from tenure.timeline.schemas import EventIn
from tenure.web.api import api_router
from tenure.web.errors import install_error_handlers
from tenure.web.pages import page_routers

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, run_jobs: bool = False
) -> FastAPI:
    """The app; ``run_jobs`` starts the embedded job worker with it (``tenure serve``)."""
    settings = settings or get_settings()
    engine = engine or create_db_engine(settings.database_url)
    app = FastAPI(
        lifespan=_embedded_worker(settings, engine) if run_jobs else None,
        title="Tenure",
        version=tenure.__version__,
        description="Customer lifecycle management with a built-in CRM.",
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="tenure_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.env == "production",
    )
    install_error_handlers(app)
    app.include_router(api_router)
    for router in page_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _document_hand_parsed_bodies(app)
    return app


def _embedded_worker(settings: Settings, engine: Engine) -> Any:
    """A lifespan that runs a job worker in a thread while the server runs.

    Stopping the server (SIGTERM to uvicorn) stops the worker gracefully: running jobs
    finish within the grace period or go back to the queue.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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

    return lifespan


def _document_hand_parsed_bodies(app: FastAPI) -> None:
    """Add EventIn to the OpenAPI components: POST /events parses its body by hand."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        event_schema = EventIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(event_schema.pop("$defs", {}))
        components["EventIn"] = event_schema
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
