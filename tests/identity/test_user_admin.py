"""Users over HTTP and pages: invitations with a one-time link, roles, deactivation; one's
own password and API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.identity.models import ApiToken, AuditEntry, Invitation, User
from tests.pages import csrf_token, log_in


def _invite(client, admin, email="new.hire@example.com", role="sales") -> dict:
    response = client.post(
        "/api/v1/users",
        json={"email": email, "name": "New Hire", "role": role},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _accept(client, url: str, password: str = "first-password-1"):
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    if page.status_code != 200:
        return page
    form = {"csrf_token": csrf_token(page.text), "password": password, "confirm_password": password}
    return client.post("/" + path, data=form, follow_redirects=False)


def test_an_invitation_link_sets_a_password_logs_in_and_works_once(client, admin, session):
    body = _invite(client, admin)
    assert body["user"]["status"] == "invited"
    assert body["invitation_url"].startswith("http://testserver/invite/")
    secret = body["invitation_url"].rsplit("/", 1)[1]
    stored = session.scalars(select(Invitation.token_hash)).all()
    assert secret not in stored and len(stored) == 1  # only a digest is kept

    accepted = _accept(client, body["invitation_url"])
    assert accepted.status_code == 303
    assert client.get("/settings/profile").status_code == 200  # logged in as the invitee
    assert "new.hire@example.com" in client.get("/settings/profile").text

    client.cookies.clear()
    again = _accept(client, body["invitation_url"], "second-password-2")
    assert again.status_code == 410
    assert "used already or has expired" in again.text
    log_in(client, "new.hire@example.com", "second-password-2", expect=400)
    log_in(client, "new.hire@example.com", "first-password-1")
    users = client.get("/api/v1/users", headers=admin.headers).json()
    assert {u["email"]: u["status"] for u in users}["new.hire@example.com"] == "active"


def test_an_expired_link_opens_nothing_and_a_new_link_replaces_the_old(client, admin, session):
    body = _invite(client, admin)
    session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert _accept(client, body["invitation_url"]).status_code == 410
    user_id = body["user"]["id"]

    renewed = client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers)
    assert renewed.status_code == 200, renewed.text
    newer = client.post(f"/api/v1/users/{user_id}/invitation", headers=admin.headers).json()
    assert _accept(client, renewed.json()["invitation_url"]).status_code == 410  # retired
    assert _accept(client, newer["invitation_url"]).status_code == 303


def test_invitations_are_for_admins_and_name_bad_fields(client, admin, api_user):
    manager = api_user("manager")
    refused = client.post(
        "/api/v1/users",
        json={"email": "x@example.com", "role": "sales"},
        headers=manager.headers,
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/users", headers=manager.headers).status_code == 200
    bad_role = client.post(
        "/api/v1/users", json={"email": "x@example.com", "role": "boss"}, headers=admin.headers
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["errors"][0]["field"] == "role"
    bad_email = client.post(
        "/api/v1/users", json={"email": "nobody", "role": "sales"}, headers=admin.headers
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["errors"][0]["field"] == "email"
    taken = client.post(
        "/api/v1/users", json={"email": admin.email, "role": "sales"}, headers=admin.headers
    )
    assert taken.status_code == 409 and taken.json()["field"] == "email"


def test_deactivation_blocks_login_and_tokens_until_reactivated(client, admin, api_user):
    rep = api_user("sales")
    assert client.get("/api/v1/me", headers=rep.headers).status_code == 200
    off = client.patch(f"/api/v1/users/{rep.id}", json={"is_active": False}, headers=admin.headers)
    assert off.status_code == 200 and off.json()["status"] == "deactivated"
    assert client.get("/api/v1/me", headers=rep.headers).status_code == 401
    log_in(client, rep.email, "correct horse 1", expect=400)

    on = client.patch(f"/api/v1/users/{rep.id}", json={"is_active": True}, headers=admin.headers)
    assert on.json()["status"] == "active"
    assert client.get("/api/v1/me", headers=rep.headers).json()["email"] == rep.email


def test_a_deactivated_user_logged_in_is_logged_out(client, admin, api_user):
    rep = api_user("sales")
    log_in(client, rep.email, "correct horse 1")
    assert client.get("/settings/profile").status_code == 200
    client.patch(f"/api/v1/users/{rep.id}", json={"is_active": False}, headers=admin.headers)
    assert client.get("/settings/profile", follow_redirects=False).status_code == 303


def test_an_admin_keeps_themselves_and_the_last_admin_active(client, admin, session):
    own = client.patch(
        f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "is_active"
    others = session.scalars(select(User).where(User.role == "admin", User.id != admin.id)).all()
    for other in others:  # earlier tests of this rolled-back database may have made admins
        other.is_active = False
    session.commit()
    demote = client.patch(
        f"/api/v1/users/{admin.id}", json={"role": "sales"}, headers=admin.headers
    )
    assert demote.status_code == 422 and demote.json()["errors"][0]["field"] == "role"


def test_an_admin_changes_a_role_audited(client, admin, api_user, session):
    rep = api_user("sales")
    response = client.patch(
        f"/api/v1/users/{rep.id}", json={"role": "manager"}, headers=admin.headers
    )
    assert response.status_code == 200 and response.json()["role"] == "manager"
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "user", AuditEntry.entity_id == str(rep.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.actor_id == admin.id
    assert entry.changes == {"role": {"before": "sales", "after": "manager"}}
    empty = client.patch(f"/api/v1/users/{rep.id}", json={}, headers=admin.headers)
    assert empty.status_code == 422


def test_a_password_change_needs_the_current_password(client, api_user):
    analyst = api_user("analyst")  # read-only roles manage their own account too
    url = "/api/v1/me/password"
    wrong = client.post(
        url,
        json={"current_password": "nope", "new_password": "new-secret-9"},
        headers=analyst.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    weak = client.post(
        url,
        json={"current_password": "correct horse 1", "new_password": "short"},
        headers=analyst.headers,
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    done = client.post(
        url,
        json={"current_password": "correct horse 1", "new_password": "new-secret-9"},
        headers=analyst.headers,
    )
    assert done.status_code == 204
    log_in(client, analyst.email, "correct horse 1", expect=400)
    log_in(client, analyst.email, "new-secret-9")


def test_a_read_token_cannot_change_its_account(client, api_user):
    reader = api_user("sales", scope="read")
    response = client.post("/api/v1/me/tokens", json={"name": "x"}, headers=reader.headers)
    assert response.status_code == 403


def test_tokens_are_created_listed_with_last_use_and_revoked(client, api_user, session):
    rep = api_user("sales")
    created = client.post(
        "/api/v1/me/tokens", json={"name": "nightly sync", "scope": "read"}, headers=rep.headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    assert created.json()["last_used_at"] is None
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).json()["email"] == rep.email
    listed = {t["name"]: t for t in client.get("/api/v1/me/tokens", headers=rep.headers).json()}
    assert listed["nightly sync"]["last_used_at"] is not None
    assert listed["nightly sync"]["scope"] == "read"
    assert secret not in str(listed)  # the secret is shown once, at creation

    token_id = created.json()["id"]
    revoked = client.delete(f"/api/v1/me/tokens/{token_id}", headers=rep.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert session.get(ApiToken, token_id).revoked_at is not None

    other = api_user("sales")
    stolen = client.delete(f"/api/v1/me/tokens/{token_id}", headers=other.headers)
    assert stolen.status_code == 404
    unnamed = client.post("/api/v1/me/tokens", json={"name": " "}, headers=rep.headers)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "name"


def test_the_profile_page_creates_shows_once_and_revokes_a_token(
    client, api_user, session: Session
):
    analyst = api_user("analyst")
    log_in(client, analyst.email, "correct horse 1")
    page = client.get("/settings/profile")
    created = client.post(
        "/settings/profile/tokens",
        data={"csrf_token": csrf_token(page.text), "name": "my notebook", "scope": "read"},
    )
    assert created.status_code == 201
    secret = re.search(r'id="new-token-value" value="(tnr_[^"]+)"', created.text).group(1)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    token = session.scalars(select(ApiToken).where(ApiToken.name == "my notebook")).one()
    assert secret not in client.get("/settings/profile").text
    client.post(
        f"/settings/profile/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(page.text)}
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def _notice(html: str) -> str | None:
    match = re.search(r'<p class="notice" role="status" id="notice">([^<]*)</p>', html)
    return match.group(1) if match else None


def test_the_users_page_says_what_a_role_change_or_deactivation_did(client, admin, api_user):
    rep = api_user("sales")
    log_in(client, admin.email, "correct horse 1")
    page = client.get("/settings/users")
    assert _notice(page.text) is None
    assert 'href="/settings/users" class="active" aria-current="page"' in page.text
    token = csrf_token(page.text)

    changed = client.post(
        f"/settings/users/{rep.id}/role", data={"csrf_token": token, "role": "manager"}
    )
    assert changed.status_code == 200 and changed.url.path == "/settings/users"
    assert _notice(changed.text) == f"{rep.email} now has the manager role."
    assert _notice(client.get("/settings/users").text) is None  # said once

    off = client.post(f"/settings/users/{rep.id}/active", data={"csrf_token": token, "active": "0"})
    assert _notice(off.text) == (
        f"Deactivated {rep.email}: they cannot log in and their API tokens stop working."
    )
    on = client.post(f"/settings/users/{rep.id}/active", data={"csrf_token": token, "active": "1"})
    assert _notice(on.text) == f"Reactivated {rep.email}."

    # A refused change says why, and no notice claims it happened.
    refused = client.post(
        f"/settings/users/{admin.id}/role", data={"csrf_token": token, "role": "sales"}
    )
    assert refused.status_code == 422 and _notice(refused.text) is None
    # The invitation's answer keeps the Users tab current.
    invited = client.post(
        "/settings/users/invite",
        data={"csrf_token": token, "email": "tab@example.com", "role": "sales"},
    )
    assert invited.status_code == 201
    assert 'href="/settings/users" class="active" aria-current="page"' in invited.text


def test_a_read_only_role_creates_read_tokens_only(client, api_user, session):
    """A write token of the analyst would be refused at every write: refused at creation,
    and the profile page offers no write scope."""
    analyst = api_user("analyst")
    refused = client.post(
        "/api/v1/me/tokens", json={"name": "notebook", "scope": "write"}, headers=analyst.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "scope"
    assert "read-only" in str(refused.json()["errors"][0])
    read = client.post(
        "/api/v1/me/tokens", json={"name": "notebook", "scope": "read"}, headers=analyst.headers
    )
    assert read.status_code == 201, read.text
    scopes = session.scalars(
        select(ApiToken.scope).where(ApiToken.user_id == analyst.id, ApiToken.name == "notebook")
    ).all()
    assert scopes == ["read"]

    log_in(client, analyst.email, "correct horse 1")
    page = client.get("/settings/profile")
    assert '<option value="read">' in page.text and '<option value="write">' not in page.text
    assert "Your role reads only" in page.text
    # A writer's page offers both.
    rep = api_user("sales")
    log_in(client, rep.email, "correct horse 1")
    assert '<option value="write">' in client.get("/settings/profile").text
