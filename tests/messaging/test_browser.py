"""In Chromium: an admin sends a one-off email from the person page; the embedded worker
delivers it to aiosmtpd on loopback; the outbox, the message page and the timeline show
it; the analyst reads the same pages without a form. Both widths fit the viewport."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.messaging.conftest import add_person

pytestmark = pytest.mark.browser
PASSWORD = "mail-password-1"
WIDER = "document.documentElement.scrollWidth"


@pytest.fixture
def shop(fresh_database_url: str, smtp, monkeypatch) -> Iterator[dict]:
    collector, port = smtp
    # running_server builds its Settings; the SMTP ones come from the environment.
    for name, value in {
        "TENURE_SMTP_HOST": "127.0.0.1",
        "TENURE_SMTP_PORT": str(port),
        "TENURE_SMTP_TLS": "none",
        "TENURE_MAIL_FROM": "Corner Shop <shop@example.com>",
        "TENURE_QUIET_HOURS_START": "",
        "TENURE_QUIET_HOURS_END": "",
        "TENURE_JOBS_POLL_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(name, value)
    engine = create_db_engine(fresh_database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        for role in ("admin", "analyst"):
            create_user(session=session, email=f"{role}@example.com", role=role, password=PASSWORD)
        person = add_person(session, "grace@example.org", first_name="Grace")
    yield {"url": fresh_database_url, "person": person, "collector": collector}
    engine.dispose()


def _log_in(page, base: str, role: str) -> None:
    log_in(page, base + "/login", f"{role}@example.com", PASSWORD)


def test_send_from_the_person_page_and_read_the_outbox(shop, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    collector = shop["collector"]
    person_path = f"/people/{shop['person']}"
    with running_server(shop["url"], run_jobs=True) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, base, "admin")
        page.goto(base + person_path)
        page.click("#send-email summary")
        page.fill("#send-email input[name=subject]", "Your order has shipped")
        page.fill("#send-email textarea[name=text]", "Hello Grace, it is on its way.")
        page.click("#send-email button[type=submit]")
        expect(page.locator("h1")).to_have_text("Your order has shipped")
        deadline = time.monotonic() + 30
        while not collector.received and time.monotonic() < deadline:
            time.sleep(0.1)
        [received] = collector.received
        assert received.rcpt_tos == ["grace@example.org"]
        assert "Hello Grace" in received.message.get_body(("plain",)).get_content()
        # The row is marked sent when the job commits, just after the server's 250
        for _ in range(100):
            page.reload()
            if page.locator("#message-status").inner_text() == "sent":
                break
            time.sleep(0.1)
        expect(page.locator("#message-status")).to_have_text("sent")
        assert received.message["Message-ID"] in page.locator("#message-facts").inner_text()
        page.goto(base + person_path)
        expect(page.locator("#person-emails [data-status=sent]")).to_have_count(1)
        page.locator(".event-email_sent a.event-link").click()
        expect(page.locator("h1")).to_have_text("Your order has shipped")
        for path in ("/messages", page.url.replace(base, ""), "/suppressions"):
            page.goto(base + path)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '-')}.png"))
            assert page.evaluate(WIDER) <= 390, path
            page.set_viewport_size({"width": 1280, "height": 900})
        expect(page.locator("form[action='/suppressions']")).to_have_count(1)

        analyst = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        _log_in(analyst, base, "analyst")
        analyst.goto(base + "/messages")
        expect(analyst.locator("#outbox tbody tr[data-status=sent]")).to_have_count(1)
        analyst.goto(base + person_path)
        expect(analyst.locator("#send-email")).to_have_count(0)
        analyst.goto(base + "/suppressions")
        expect(analyst.locator("form[action='/suppressions']")).to_have_count(0)
        browser.close()
