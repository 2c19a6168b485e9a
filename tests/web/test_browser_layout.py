"""Every page at a phone's width (390 x 844): no sideways scroll, nothing wider than its card.

The layout rules (web/static/app.css): tables in ``div.table-scroll``, cards side by side
in ``div.grid``, rows of controls that wrap, and the navigation behind a Menu button.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.web.world import PASSWORD, World, build_world

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Elements inside a .card that stick out of it, unless a scroll box inside the card holds
# them (a table in its .table-scroll wrapper scrolls, which is the point).
OUTSIDE_THEIR_CARD = """() => {
  const found = [];
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      let scroller = el.parentElement, held = false;
      while (scroller && scroller !== card) {
        const overflow = getComputedStyle(scroller).overflowX;
        if (overflow === 'auto' || overflow === 'scroll') { held = true; break; }
        scroller = scroller.parentElement;
      }
      if (held) continue;
      if (r.right > box.right + 1 || r.left < box.left - 1) {
        found.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.width)}px in a `
          + `${Math.round(box.width)}px card: ${(el.textContent || '').trim().slice(0, 40)}`);
      }
    }
  }
  return found.slice(0, 5);
}"""


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[tuple[str, World]]:
    engine = create_db_engine(fresh_database_url)
    built = build_world(make_session_factory(engine))
    engine.dispose()
    yield fresh_database_url, built


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TENURE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_every_page_fits_a_phone(world, tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    url, built = world
    shots = _shots(tmp_path)
    with running_server(url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        log_in(page, base + "/people", "admin@example.com", PASSWORD)
        expect(page).to_have_url(base + "/people")

        problems = {}
        for path in [*built.pages(), "/segments/new", "/no-such-page"]:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            inner = page.evaluate("window.innerWidth")
            outside = page.evaluate(OUTSIDE_THEIR_CARD)
            if width > inner or outside:
                problems[path] = {"scrollWidth": width, "outside their card": outside}
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
        assert problems == {}

        # The navigation is behind the Menu button, and Log out is in it.
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        expect(page.get_by_role("checkbox", name="Menu")).not_to_be_checked()
        page.locator("label.menu-button").click()
        expect(nav.get_by_role("link", name="Segments")).to_be_visible()
        log_out = page.get_by_role("button", name="Log out")
        expect(log_out).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        log_out.click()
        expect(page).to_have_url(base + "/login")

        # At desktop width the bar shows everything and no Menu button.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.locator("label.menu-button")).to_be_hidden()
        browser.close()
