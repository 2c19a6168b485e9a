"""Administration in Chromium: an admin invites a user and copies the one-time link; the
invitee opens it, chooses a password and is logged in (the link then opens nothing); they
change their password, create an API token (shown once) and revoke it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server

pytestmark = pytest.mark.browser

PASSWORD = "admin-password-1"


@pytest.fixture
def database(fresh_database_url: str) -> Iterator[str]:
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(
            session=session, email="ada@example.com", role="admin", password=PASSWORD, name="Ada"
        )
    engine.dispose()
    yield fresh_database_url


def _log_in(page, base: str, email: str, password: str) -> None:
    log_in(page, base + "/login", email, password)


def test_invite_then_the_invitee_sets_a_password_and_manages_tokens(database, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())

        # The admin invites Grace from Settings > Users and copies the link
        _log_in(page, base, "ada@example.com", PASSWORD)
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Users").click()
        page.fill("#invite input[name=email]", "grace@example.com")
        page.fill("#invite input[name=name]", "Grace Hopper")
        page.select_option("#invite select[name=role]", "marketing")
        page.get_by_role("button", name="Create invitation link").click()
        link = page.locator("#invitation-link").input_value()
        assert link.startswith(base + "/invite/")
        page.locator("#invitation").get_by_role("button", name="Copy").click()
        expect(page.locator("#invitation").get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == link
        row = page.locator("#users tr", has_text="grace@example.com")
        expect(row).to_have_attribute("data-status", "invited")
        page.get_by_role("button", name="Log out").click()

        # Grace opens the link in a fresh browser and is logged in once she chooses a password
        grace = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        grace.on("dialog", lambda dialog: dialog.accept())
        grace.goto(link)
        expect(grace.locator("h1")).to_have_text("Welcome to Tenure")
        grace.fill("input[name=password]", "grace-first-1")
        grace.fill("input[name=confirm_password]", "grace-first-1")
        grace.get_by_role("button", name="Set password and log in").click()
        expect(grace).to_have_url(base + "/")
        expect(grace.locator(".me")).to_contain_text("grace@example.com")

        # The link works once
        other = browser.new_context().new_page()
        other.goto(link)
        expect(other.locator("h1")).to_have_text("This link does not work")

        # Grace changes her password: the current one is required
        grace.goto(base + "/settings/profile")
        grace.fill("#password input[name=current_password]", "wrong-password")
        grace.fill("#password input[name=new_password]", "grace-second-2")
        grace.fill("#password input[name=confirm_password]", "grace-second-2")
        grace.get_by_role("button", name="Change password").click()
        expect(grace.locator("#password .error")).to_contain_text("not your current password")
        grace.fill("#password input[name=current_password]", "grace-first-1")
        grace.fill("#password input[name=new_password]", "grace-second-2")
        grace.fill("#password input[name=confirm_password]", "grace-second-2")
        grace.get_by_role("button", name="Change password").click()
        expect(grace.locator("#password .notice")).to_contain_text("Your password was changed")
        _log_in(other, base, "grace@example.com", "grace-second-2")
        expect(other).to_have_url(base + "/")

        # A token, shown once, works against the API until she revokes it
        grace.fill("#tokens input[name=name]", "spreadsheet")
        grace.select_option("#tokens select[name=scope]", "read")
        grace.get_by_role("button", name="Create token").click()
        secret = grace.locator("#new-token-value").input_value()
        assert secret.startswith("tnr_")
        me = httpx.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["email"] == "grace@example.com"
        grace.goto(base + "/settings/profile")
        expect(grace.locator("#new-token-value")).to_have_count(0)
        token_row = grace.locator("#token-list tr", has_text="spreadsheet")
        expect(token_row).not_to_contain_text("never")  # its last use is listed
        token_row.get_by_role("button", name="Revoke").click()
        expect(grace.locator("#token-list tr", has_text="spreadsheet")).to_contain_text("revoked")
        gone = httpx.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert gone.status_code == 401
        grace.screenshot(path=str(tmp_path / "profile-390.png"), full_page=True)
        # The profile page fits a phone (the token table scrolls inside its card)
        assert grace.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == []
        browser.close()
