"""Fixtures shared by the whole suite.

Every database test runs twice: on SQLite and on a real PostgreSQL server (the URL comes
from TENURE_TEST_POSTGRES_URL, which `make test` sets after starting a throwaway cluster).
Each test runs inside an outer transaction that is rolled back (SQLAlchemy's "joining a
session into an external transaction" recipe); tests that need committed data across
connections (CLI, crash recovery, a real server) get a fresh database of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.identity.actions import create_api_token, create_user
from tenure.registrations import register_all
from tenure.web.app import create_app

POSTGRES_URL = os.environ.get("TENURE_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("TENURE_TEST_REQUIRE_POSTGRES") == "1"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"

# As the web app and the CLI do at start-up: tests append events without either.
register_all()


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError("TENURE_TEST_REQUIRE_POSTGRES=1 but no TENURE_TEST_POSTGRES_URL")


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    marks = [] if POSTGRES_URL else [pytest.mark.skip(reason="TENURE_TEST_POSTGRES_URL not set")]
    params.append(pytest.param("postgresql", id="postgresql", marks=marks))
    return params


def _create_postgres_database(name: str) -> str:
    assert POSTGRES_URL
    admin = create_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(name: str) -> None:
    assert POSTGRES_URL
    admin = create_engine(normalize_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database per backend, shared by the session's rolled-back tests."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tenure.db'}"
        name = None
    else:
        name = f"tenure_t_{uuid.uuid4().hex[:10]}"
        url = _create_postgres_database(name)
    engine = create_db_engine(url)
    upgrade_database(engine)
    yield engine
    engine.dispose()
    if name:
        _drop_postgres_database(name)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False), secret_key=TEST_SECRET
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]):
    app = create_app(settings, engine)
    app.state.session_factory = session_factory
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@dataclass(frozen=True)
class ApiUser:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_api_user(session: Session, role: str, scope: str = "write") -> ApiUser:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    user = create_user(session=session, email=email, role=role, password="correct horse 1")
    _, token = create_api_token(session=session, email=email, scope=scope)
    session.commit()
    return ApiUser(id=user.id, email=email, token=token)


@pytest.fixture
def admin(session: Session) -> ApiUser:
    return make_api_user(session, "admin")


@pytest.fixture
def fresh_database_url(backend: str, tmp_path) -> Iterator[str]:
    """A new, migrated, committed-to database for tests that span connections or processes."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        name = None
    else:
        name = f"tenure_f_{uuid.uuid4().hex[:10]}"
        url = _create_postgres_database(name)
    engine = create_db_engine(url)
    upgrade_database(engine)
    engine.dispose()
    yield url
    if name:
        _drop_postgres_database(name)


@pytest.fixture
def api_user(session: Session):
    """Factory: ``api_user("analyst", scope="read")`` makes a user with a token."""
    return lambda role, scope="write": make_api_user(session, role, scope)
