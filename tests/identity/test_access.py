"""Users, API tokens, roles and the audit log."""

from __future__ import annotations

from sqlalchemy import select

from tenure.identity.models import ApiToken, User
from tenure.identity.tokens import hash_token
from tests.pages import csrf_token


def test_requests_without_a_valid_token_are_401(client):
    assert client.get("/api/v1/people").status_code == 401
    response = client.get("/api/v1/people", headers={"Authorization": "Bearer tnr_wrong"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_tokens_and_passwords_are_stored_hashed(session, api_user):
    user = api_user("sales")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == hash_token(user.token) and user.token not in row.token_hash
    password_hash = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert password_hash.startswith("$argon2id$")


def test_read_scope_cannot_write(client, api_user):
    reader = api_user("manager", scope="read")
    assert client.get("/api/v1/people", headers=reader.headers).status_code == 200
    response = client.post("/api/v1/people", json={"first_name": "X"}, headers=reader.headers)
    assert response.status_code == 403
    assert "read scope" in response.json()["message"]


def test_analyst_is_read_only_even_with_a_write_token(client, api_user):
    analyst = api_user("analyst", scope="write")
    assert client.get("/api/v1/people", headers=analyst.headers).status_code == 200
    response = client.post(
        "/api/v1/events",
        json={"type": "visit", "occurred_at": "2026-01-01T00:00:00Z", "person_id": 1},
        headers=analyst.headers,
    )
    assert response.status_code == 403


def test_audit_log_is_for_admins(client, admin, api_user):
    created = client.post(
        "/api/v1/organizations",
        json={"name": "Initech", "domain": "Initech.example"},
        headers=admin.headers,
    ).json()
    client.patch(
        f"/api/v1/organizations/{created['id']}",
        json={"name": "Initech Ltd"},
        headers=admin.headers,
    )
    client.delete(f"/api/v1/organizations/{created['id']}", headers=admin.headers)

    page = client.get(
        "/api/v1/audit",
        params={"entity_type": "organization", "entity_id": str(created["id"])},
        headers=admin.headers,
    ).json()
    actions = [(e["action"], e["actor_id"]) for e in page["items"]]
    assert actions == [("delete", admin.id), ("update", admin.id), ("create", admin.id)]
    assert page["items"][1]["changes"] == {"name": {"before": "Initech", "after": "Initech Ltd"}}
    assert page["items"][2]["changes"]["domain"] == {"before": None, "after": "initech.example"}

    manager = api_user("manager")
    assert client.get("/api/v1/audit", headers=manager.headers).status_code == 403


def test_web_login_uses_a_session_andcsrf_token(client, session):
    from tenure.identity.actions import create_user

    create_user(session=session, email="web@example.com", role="sales", password="s3cret-pass")
    session.commit()

    assert client.get("/people", follow_redirects=False).status_code == 303
    token = csrf_token(client.get("/login").text)

    no_csrf = client.post(
        "/login", data={"email": "web@example.com", "password": "s3cret-pass", "csrf_token": "x"}
    )
    assert no_csrf.status_code == 403

    wrong = client.post(
        "/login", data={"email": "web@example.com", "password": "nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.text

    ok = client.post(
        "/login",
        data={
            "email": "WEB@example.com",
            "password": "s3cret-pass",
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert client.get("/people").status_code == 200

    logout_token = csrf_token(client.get("/people").text)
    client.post("/logout", data={"csrf_token": logout_token})
    assert client.get("/people", follow_redirects=False).status_code == 303


def test_only_admins_and_managers_list_users(client, api_user):
    listed = {role: api_user(role) for role in ("admin", "manager")}
    refused = {role: api_user(role) for role in ("sales", "marketing", "support", "analyst")}
    for role, user in listed.items():
        response = client.get("/api/v1/users", headers=user.headers)
        assert response.status_code == 200, role
        emails = {u["email"] for u in response.json()}
        assert {u.email for u in (*listed.values(), *refused.values())} <= emails
    for role, user in refused.items():
        response = client.get("/api/v1/users", headers=user.headers)
        assert response.status_code == 403, role
        assert response.json()["error"] == "forbidden"
        assert "@" not in response.text  # no email leaks into the refusal
