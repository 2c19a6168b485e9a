"""An analyst (read-only) walks every page and finds no write control; an admin does.

Pages hide what the actor cannot do (``ctx.may``); the actions refuse it anyway, so a
control left visible only ends on "Not allowed".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.identity.models import Role
from tenure.web.app import create_app
from tests.pages import log_in
from tests.web.world import PASSWORD, World, build_world

# Forms a read-only user keeps: logging out, the search box in the top bar, and their own
# account and preferences (password, API tokens, a private saved view): none writes
# customer data or workspace settings.
READ_ONLY_POSTS = {
    "/logout",
    "/search",
    "/settings/profile/password",
    "/settings/profile/tokens",
    "/people/views",
}
# Pages that exist only to write: no link to them for a read-only role.
WRITE_PAGE = re.compile(r'href="(/segments/new|/segments/\d+/edit)[^"]*"')
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>", re.I)


@pytest.fixture
def walk(fresh_database_url: str) -> Iterator[tuple[TestClient, World]]:
    engine = create_db_engine(fresh_database_url)
    world = build_world(make_session_factory(engine))
    settings = Settings(database_url=fresh_database_url, secret_key="walk-test-" + "x" * 32)
    app = create_app(settings, engine)
    with TestClient(app) as client:
        yield client, world
    engine.dispose()


def _log_in(client: TestClient, role: str) -> None:
    client.cookies.clear()
    log_in(client, f"{role}@example.com", PASSWORD)


def _write_controls(html: str) -> list[str]:
    found = []
    for form in POST_FORM.findall(html):
        action = re.search(r'action="([^"]*)"', form)
        if action is None or action.group(1) not in READ_ONLY_POSTS:
            found.append(form)
    found += WRITE_PAGE.findall(html)
    found += re.findall(r'<details class="confirm"', html)
    return found


def test_an_analyst_finds_no_write_control_on_any_page(walk):
    client, world = walk
    _log_in(client, "analyst")
    seen = {}
    for path in world.pages(Role.analyst):
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        seen[path] = _write_controls(page.text)
    assert {path: found for path, found in seen.items() if found} == {}


def test_the_same_walk_as_an_admin_finds_the_controls(walk):
    """The check above can fail: an admin sees write forms on the same pages."""
    client, world = walk
    _log_in(client, "admin")
    with_controls = [path for path in world.pages() if _write_controls(client.get(path).text)]
    for expected in (
        "/imports",
        "/lifecycle/settings",
        f"/people/{world.person_id}",
        f"/segments/{world.segment_id}",
        f"/duplicates/{world.pair_id}",
        f"/imports/{world.import_id}",
        "/duplicates",
        "/segments",
    ):
        assert expected in with_controls, expected


def test_write_pages_tell_an_analyst_who_may(walk):
    client, world = walk
    _log_in(client, "analyst")
    for path in ("/segments/new", f"/segments/{world.segment_id}/edit"):
        page = client.get(path)
        assert page.status_code == 403 and "Not allowed" in page.text
        assert "This needs the role" in page.text and "analyst" in page.text


def test_the_read_only_import_draft_shows_its_mapping(walk):
    client, world = walk
    _log_in(client, "analyst")
    page = client.get(f"/imports/{world.import_id}").text
    assert "Custom field with a long heading number 26" in page
    assert "<select" not in page.split('id="mapping"')[1].split("</table>")[0]
    assert "Run import" not in page


HREF = re.compile(r'<a\b[^>]*href="(/[^"#]*)')


def test_an_analyst_is_never_linked_to_a_page_they_may_not_open(walk):
    """A link a role cannot follow is a dead end ("Not allowed"): every link on every page
    the analyst opens leads somewhere they may look (one link of each shape is followed)."""
    client, world = walk
    _log_in(client, "analyst")
    shapes: dict[str, tuple[str, str]] = {}
    for path in world.pages(Role.analyst):
        for href in HREF.findall(client.get(path).text):
            if "export" in href or href.startswith("/logout"):
                continue
            shapes.setdefault(re.sub(r"\d+", "N", href.split("?")[0]), (href, path))
    refused = {
        href: source
        for href, source in shapes.values()
        if client.get(href.replace("&amp;", "&")).status_code in (401, 403)
    }
    assert len(shapes) > 20
    assert refused == {}
