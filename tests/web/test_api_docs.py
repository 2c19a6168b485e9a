"""The API reference, the /docs shortcut and the favicon come from the package itself."""

from __future__ import annotations

import pytest

from tenure.web.docs import STATIC_DIR
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_server

SWAGGER_DIR = STATIC_DIR / "vendor" / "swagger-ui"


def test_docs_page_loads_swagger_ui_from_the_package(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "/static/vendor/swagger-ui/swagger-ui.css" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset, kind in [("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css")]:
        served = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert served.status_code == 200 and kind in served.headers["content-type"]
        assert served.content == (SWAGGER_DIR / asset).read_bytes()


def test_swagger_ui_keeps_its_licence():
    licence = (SWAGGER_DIR / "LICENSE.txt").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    assert "SmartBear" in (SWAGGER_DIR / "NOTICE.txt").read_text()


def test_docs_redirects_to_the_api_reference(client):
    answer = client.get("/docs", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"] == "/api/docs"


def test_favicon(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    login = client.get("/login").text
    assert 'rel="icon" href="/static/favicon.svg"' in login


def _docs_offline(database_url: str, check) -> None:
    """Open /api/docs with every request off the loopback server refused; ``check(page)``."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        refused: list[str] = []

        def offline(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        page.route("**/*", offline)
        page.goto(base + "/api/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
        expect(page.locator(".info .title")).to_contain_text("Tenure")
        check(page)
        assert refused == []
        browser.close()


@pytest.mark.browser
def test_api_docs_render_offline(fresh_database_url: str):
    """Every request off the loopback server is refused: Swagger UI still renders the API."""
    _docs_offline(fresh_database_url, lambda page: None)


@pytest.mark.browser
def test_api_docs_list_every_tag(fresh_database_url: str):
    """Swagger UI renders a spec this size lazily, the operations near the viewport only:
    scrolling through the page shows every tag of the API."""

    def every_tag(page) -> None:
        seen: set[str] = set()
        for _ in range(80):
            seen.update(t.split("\n")[0] for t in page.locator(".opblock-tag").all_inner_texts())
            page.mouse.wheel(0, 800)
            page.wait_for_timeout(150)
        assert {"people", "organizations", "templates", "webhooks", "users", "views"} <= seen
        assert len(seen) >= 18

    _docs_offline(fresh_database_url, every_tag)
