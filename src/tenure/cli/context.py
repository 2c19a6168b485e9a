"""Settings, engine and sessions for commands, created once per invocation."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings, get_settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory


@lru_cache(maxsize=1)
def cli_engine() -> Engine:
    settings = get_settings()
    return create_db_engine(
        settings.database_url,
        statement_timeout_seconds=settings.statement_timeout_seconds,
        busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
    )


def cli_settings() -> Settings:
    return get_settings()


def cli_sessions() -> sessionmaker[Session]:
    return make_session_factory(cli_engine())
