"""Cheap authentication: tokens cached per process and revoked through a version counter;
login sessions ended by a password change; no cookie sessions on /api."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.types import utcnow
from tenure.identity.actions import create_api_token, create_user
from tenure.identity.credentials import TokenCache, credentials_version, token_cache
from tenure.identity.models import ApiToken
from tenure.identity.token_use import USE_RESOLUTION
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.pages import csrf_token, log_in


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_cached_token_costs_no_query_and_no_write(client, engine, api_user, session):
    rep = api_user("sales")
    first = client.get("/api/v1/me", headers=rep.headers)
    assert first.status_code == 200 and first.json()["email"] == rep.email
    used = session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == rep.id))
    assert used is not None  # the first use is recorded

    with _statements(engine) as seen:
        again = client.get("/api/v1/me", headers=rep.headers)
    assert again.status_code == 200 and again.json()["id"] == rep.id
    token_statements = [s for s in seen if "api_tokens" in s or "credentials_state" in s]
    assert token_statements == [], token_statements  # /me itself still reads its user


def test_revoking_a_token_bumps_the_version_and_refuses_it_at_once(client, api_user, session):
    rep = api_user("sales")
    before = credentials_version(session)
    created = client.post("/api/v1/me/tokens", json={"name": "sync"}, headers=rep.headers).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # now cached
    assert client.delete(f"/api/v1/me/tokens/{created['id']}", headers=rep.headers).is_success
    assert credentials_version(session) == before + 1
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=rep.headers).status_code == 200  # read again


def test_reads_by_key_answer_from_the_cache_and_see_a_revocation_at_once(
    client, engine, api_user, session
):
    """The 360 view authenticates from the cache alone (``TokenCache.cached_actor``): no
    token statement; a revocation empties the cache, so the next read is refused."""
    rep = api_user("sales")
    created = client.post("/api/v1/me/tokens", json={"name": "sync"}, headers=rep.headers).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    person = client.post("/api/v1/people", json={"first_name": "Ada"}, headers=rep.headers)
    path = f"/api/v1/people/{person.json()['id']}"
    assert client.get(path, headers=headers).status_code == 200  # cached now
    with _statements(engine) as seen:
        assert client.get(path, headers=headers).json()["first_name"] == "Ada"
    assert [s for s in seen if "api_tokens" in s or "credentials_state" in s] == []
    assert client.delete(f"/api/v1/me/tokens/{created['id']}", headers=rep.headers).is_success
    assert client.get(path, headers=headers).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer  "}).status_code == 401


def test_the_cache_answers_alone_only_while_it_may(session, api_user):
    """``cached_actor`` answers without the database for a known token, a version checked
    within ``recheck_seconds`` and no last-use write due; otherwise None (the caller asks
    ``actor``, which rechecks, looks up and records the use)."""
    now = [0.0]
    cache = TokenCache(recheck_seconds=10, clock=lambda: now[0])
    rep = api_user("sales")
    assert cache.cached_actor(rep.token) is None  # unknown yet
    found = cache.actor(session, rep.token)
    assert found is not None and cache.cached_actor(rep.token) == found
    assert cache.cached_actor("tnr_someone-else") is None
    entry = next(iter(cache._entries.values()))
    entry.last_used_at = utcnow() - USE_RESOLUTION  # its last use is due to be recorded
    assert cache.cached_actor(rep.token) is None
    entry.last_used_at = utcnow()
    now[0] = 10.0  # the version is due for its recheck
    assert cache.cached_actor(rep.token) is None
    now[0] = 0.0
    assert cache.cached_actor(rep.token) == found
    cache.forget()
    assert cache.cached_actor(rep.token) is None


def test_a_role_change_reaches_a_cached_token(client, admin, api_user):
    rep = api_user("sales")
    person = {"first_name": "Ada"}
    assert client.post("/api/v1/people", json=person, headers=rep.headers).status_code == 201
    demoted = client.patch(
        f"/api/v1/users/{rep.id}", json={"role": "analyst"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    refused = client.post("/api/v1/people", json=person, headers=rep.headers)
    assert refused.status_code == 403 and "read-only" in refused.json()["message"]


@pytest.fixture
def two_processes(fresh_database_url: str) -> Iterator[tuple[TestClient, TestClient, str, str]]:
    """Two apps on one database with engines (pools, caches) of their own, as two server
    processes have; an admin's token and a sales user's token."""
    engines = [create_db_engine(fresh_database_url) for _ in range(2)]
    with unit_of_work(make_session_factory(engines[0])) as session:
        for email, role in (("boss@example.com", "admin"), ("rep@example.com", "sales")):
            create_user(session=session, email=email, role=role, password="correct horse 1")
        _, boss = create_api_token(session=session, email="boss@example.com", scope="write")
        _, rep = create_api_token(session=session, email="rep@example.com", scope="write")
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    with (
        TestClient(create_app(settings, engines[0])) as first,
        TestClient(create_app(settings, engines[1])) as second,
    ):
        yield first, second, boss, rep
    for engine in engines:
        engine.dispose()


def test_a_revocation_in_one_process_reaches_another_at_its_next_recheck(two_processes):
    first, second, boss, rep = two_processes
    headers = {"Authorization": f"Bearer {rep}"}
    me = second.get("/api/v1/me", headers=headers).json()
    with second.app.state.session_factory() as session:
        cache = token_cache(session)
    cache.recheck_seconds = 3600  # as if the process had just read the version

    deactivated = first.patch(
        f"/api/v1/users/{me['id']}",
        json={"is_active": False},
        headers={"Authorization": f"Bearer {boss}"},
    )
    assert deactivated.status_code == 200
    assert first.get("/api/v1/me", headers=headers).status_code == 401  # at once there
    # The other process trusts its copy of the version until its next recheck (at most
    # RECHECK_SECONDS, one second, in a server)...
    assert second.get("/api/v1/me", headers=headers).status_code == 200
    # ...where one single-row read shows the new version, and the token is looked up again.
    cache.recheck_seconds = 0
    assert second.get("/api/v1/me", headers=headers).status_code == 401
    assert second.get("/api/v1/me", headers={"Authorization": f"Bearer {boss}"}).is_success


def test_a_password_change_ends_the_other_logins_not_this_one_nor_the_tokens(app, api_user):
    rep = api_user("support")
    with TestClient(app) as here, TestClient(app) as elsewhere:
        log_in(here, rep.email, "correct horse 1")
        log_in(elsewhere, rep.email, "correct horse 1")
        assert elsewhere.get("/settings/profile").status_code == 200
        form = {
            "csrf_token": csrf_token(here.get("/settings/profile").text),
            "current_password": "correct horse 1",
            "new_password": "a-new-secret-2",
            "confirm_password": "a-new-secret-2",
        }
        changed = here.post("/settings/profile/password", data=form, follow_redirects=False)
        assert changed.status_code == 303
        assert here.get("/settings/profile").status_code == 200  # still logged in
        ended = elsewhere.get("/settings/profile", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
        # API tokens are credentials of their own (README): they keep working.
        assert here.get("/api/v1/me", headers=rep.headers).json()["id"] == rep.id

        # A change through the API (no login session of its own) ends every login.
        again = here.post(
            "/api/v1/me/password",
            json={"current_password": "a-new-secret-2", "new_password": "a-third-one-3"},
            headers=rep.headers,
        )
        assert again.status_code == 204
        assert here.get("/settings/profile", follow_redirects=False).status_code == 303


def test_the_api_runs_without_cookie_sessions(client, api_user):
    rep = api_user("sales")
    log_in(client, rep.email, "correct horse 1")
    # A page answers with the (re-signed) session cookie...
    assert "tenure_session" in client.get("/settings/profile").headers.get("set-cookie", "")
    # ...the API, with the same cookie sent along, neither reads nor writes it.
    api = client.get("/api/v1/me", headers=rep.headers)
    assert api.status_code == 200 and "set-cookie" not in api.headers
    assert client.get("/api/v1/me").status_code == 401  # a login cookie is not an API login
