"""Errors on pages are HTML pages in the layout; under /api they stay JSON."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.identity.actions import create_user
from tenure.lifecycle.models import LifecycleStage
from tenure.web.errors import field_in_words
from tests.pages import csrf_token, log_in

PASSWORD = "pass-word-123"


@pytest.fixture
def users(session):
    made = {
        role: create_user(
            session=session, email=f"{role}@example.com", role=role, password=PASSWORD
        )
        for role in ("admin", "analyst")
    }
    session.commit()
    return made


def test_unknown_page_is_an_html_404_with_the_navigation(client, users):
    log_in(client, "admin@example.com", PASSWORD)
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    assert 'href="/"' in page.text  # a way home
    assert 'href="/people"' in page.text  # the navigation is there: logged in
    assert "admin@example.com" in page.text


def test_unknown_page_without_login_is_html_too(client):
    page = client.get("/settings-that-do-not-exist")
    assert page.status_code == 404 and "Page not found" in page.text
    assert "{" not in page.text.split("<main>")[1].split("</main>")[0]


def test_api_errors_stay_json(client, admin):
    missing = client.get("/api/no-such-thing", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    bad = client.post("/api/v1/people", json={"first_name": 5}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"


def test_wrong_method_on_a_page_is_an_html_405(client, users):
    log_in(client, "admin@example.com", PASSWORD)
    page = client.put("/people")
    assert page.status_code == 405
    assert "Not possible here" in page.text and "text/html" in page.headers["content-type"]


def test_not_allowed_page_names_the_roles_needed(client, users):
    log_in(client, "analyst@example.com", PASSWORD)
    token = csrf_token(client.get("/lifecycle").text)
    page = client.post(
        "/lifecycle/settings/stages", data={"csrf_token": token, "key": "x", "name": "X"}
    )
    assert page.status_code == 403
    assert "Not allowed" in page.text
    assert "You are logged in as analyst" in page.text
    assert "Role analyst is read-only." in page.text
    needed = re.search(r"This needs the role ([a-z, ]+)\.", page.text)
    assert needed and "admin" in needed.group(1) and "analyst" not in needed.group(1)
    assert "javascript:history.back()" in page.text


def test_page_form_missing_a_field_names_it_in_words(client, session, users):
    log_in(client, "admin@example.com", PASSWORD)
    token = csrf_token(client.get("/lifecycle/settings").text)
    page = client.post("/lifecycle/settings/stages", data={"csrf_token": token, "key": "vip"})
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "Name: this is required" in page.text
    assert '"errors"' not in page.text
    stored = select(LifecycleStage).where(LifecycleStage.key == "vip")
    assert session.scalars(stored).first() is None


def test_field_in_words():
    assert field_in_words(("body", "first_name")) == "First name"
    assert field_in_words(("query", "page")) == "Page"
    assert field_in_words(("body", "rows", 3, "email")) == "Email"
    assert field_in_words(("body",)) == "The form"


def test_server_error_is_a_page_in_the_layout(app, users):
    @app.get("/boom-for-test")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/api/boom-for-test")
    async def api_boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        log_in(client, "admin@example.com", PASSWORD)
        page = client.get("/boom-for-test")
        assert page.status_code == 500
        assert "Something went wrong" in page.text and "boom" not in page.text
        assert 'href="/people"' in page.text
        api = client.get("/api/boom-for-test")
        assert api.status_code == 500 and api.json()["error"] == "internal_error"


def test_login_goes_back_to_the_page_asked_with_its_query(client, users):
    asked = client.get("/people?q=ida&tag=vip", follow_redirects=False)
    assert asked.status_code == 303
    location = asked.headers["location"]
    assert parse_qs(urlsplit(location).query)["next"] == ["/people?q=ida&tag=vip"]
    form = client.get(location).text
    assert 'value="/people?q=ida&amp;tag=vip"' in form
    done = log_in(
        client, "admin@example.com", PASSWORD, next_path="/people?q=ida&tag=vip", expect=None
    )
    assert done.status_code == 303 and done.headers["location"] == "/people?q=ida&tag=vip"


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example"])
def test_login_refuses_to_send_anyone_off_site(client, users, target):
    done = log_in(client, "admin@example.com", PASSWORD, next_path=target)
    assert done.headers["location"] == "/"  # Home


def test_a_mistyped_record_address_is_page_not_found(client, users):
    log_in(client, "admin@example.com", PASSWORD)
    for path in ("/people/abc", "/organizations/abc", "/segments/abc"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Page not found" in page.text and "Some fields need attention" not in page.text
