"""The cookie signing key: random and stored in the database unless TENURE_SECRET_KEY is set.

Issue 9 (Secrets): a server started without TENURE_SECRET_KEY signed cookies with the fixed
key ``development``, so anyone could forge an admin session.
"""

from __future__ import annotations

import logging
from base64 import b64encode

import orjson
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select
from typer.testing import CliRunner

from tenure.cli.main import app as cli
from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import InstanceSecret
from tenure.identity.secret_key import SESSION_KEY_NAME
from tenure.web.app import create_app
from tests.pages import log_in


def _forged_cookie(key: str, user_id: int) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it, with ``key``."""
    data = b64encode(orjson.dumps({"user_id": user_id}))
    return TimestampSigner(key).sign(data).decode()


def _admin(database_url: str) -> int:
    engine = create_db_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        user = create_user(
            session=session, email="boss@example.com", role="admin", password="x" * 12
        )
        user_id = user.id
    engine.dispose()
    return user_id


def _stored_key(database_url: str) -> str | None:
    engine = create_db_engine(database_url)
    with make_session_factory(engine)() as session:
        key = session.scalar(
            select(InstanceSecret.value).where(InstanceSecret.name == SESSION_KEY_NAME)
        )
    engine.dispose()
    return key


def _keyless_app(database_url: str):
    return create_app(Settings(database_url=database_url, secret_key=None))


def test_init_stores_a_random_key_that_a_forged_development_cookie_does_not_pass(
    fresh_database_url, monkeypatch
):
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    monkeypatch.delenv("TENURE_SECRET_KEY", raising=False)
    from tenure.cli import context
    from tenure.config import get_settings

    get_settings.cache_clear()
    context.cli_engine.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["init"])
    finally:
        context.cli_engine().dispose()
        get_settings.cache_clear()
        context.cli_engine.cache_clear()
    assert result.exit_code == 0, result.output
    key = _stored_key(fresh_database_url)
    assert key is not None and len(key) >= 32 and key != "development"

    user_id = _admin(fresh_database_url)
    app = _keyless_app(fresh_database_url)
    with TestClient(app, follow_redirects=False) as client:
        client.cookies.set("tenure_session", _forged_cookie("development", user_id))
        forged = client.get("/people")
        assert forged.status_code == 303 and forged.headers["location"].startswith("/login")

        client.cookies.set("tenure_session", _forged_cookie(key, user_id))
        assert client.get("/people").status_code == 200  # the stored key is the one in use
    app.state.engine.dispose()


def test_two_app_instances_on_one_database_share_the_key(fresh_database_url):
    _admin(fresh_database_url)
    first, second = _keyless_app(fresh_database_url), _keyless_app(fresh_database_url)
    with (
        TestClient(first, follow_redirects=False) as one,
        TestClient(second, follow_redirects=False) as two,
    ):
        log_in(one, "boss@example.com", "x" * 12)
        two.cookies.set("tenure_session", one.cookies["tenure_session"])
        assert two.get("/people").status_code == 200
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_tenure_secret_key_overrides_the_stored_key(fresh_database_url):
    user_id = _admin(fresh_database_url)
    chosen = "an-operator-chosen-key-0123456789abcdef"
    app = create_app(Settings(database_url=fresh_database_url, secret_key=chosen))
    with TestClient(app, follow_redirects=False) as client:
        client.cookies.set("tenure_session", _forged_cookie(chosen, user_id))
        assert client.get("/people").status_code == 200
    app.state.engine.dispose()
    assert _stored_key(fresh_database_url) is None  # nothing generated when a key is given


def test_a_fixed_key_is_logged_as_a_warning(fresh_database_url, caplog):
    with caplog.at_level(logging.WARNING, logger="tenure.web.app"):
        app = create_app(Settings(database_url=fresh_database_url, secret_key="development"))
    app.state.engine.dispose()
    assert any("forge a login session" in r.getMessage() for r in caplog.records)


def test_production_refuses_a_placeholder_key():
    with pytest.raises(ValueError, match="TENURE_SECRET_KEY"):
        Settings(env="production", secret_key="development")
    assert Settings(env="production", secret_key=None).secret_key is None
