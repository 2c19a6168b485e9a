"""The application factory: one process serves the API, the pages and static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

import tenure
from tenure.config import Settings, get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.web.api import api_router
from tenure.web.body_limits import BodyLimitMiddleware
from tenure.web.errors import install_error_handlers
from tenure.web.openapi import install_openapi
from tenure.web.options import AllowOnOptions
from tenure.web.pages import page_routers

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or create_db_engine(settings.database_url)
    app = FastAPI(
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
    # Added last, so it runs first: nothing reads a body before the count starts.
    app.add_middleware(AllowOnOptions)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    install_error_handlers(app)
    app.include_router(api_router)
    for router in page_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_openapi(app)
    return app
