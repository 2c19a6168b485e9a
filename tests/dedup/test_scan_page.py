"""The scan in Chromium: preview, confirm, run, undo the whole run; an analyst sees no
scan, merge or undo button."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.dedup.models import DuplicateCandidate, Merge, MergeRun
from tenure.dedup.scan import scan_duplicates
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.dedup.test_dedup_scan import write_base

pytestmark = pytest.mark.browser

PEOPLE = 300


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="ops-password")
        create_user(
            session=session, email="ana@example.com", role="analyst", password="ana-password"
        )
    write_base(factory, PEOPLE)
    engine.dispose()
    yield url


def _log_in(page, base: str, email: str, password: str) -> None:
    log_in(page, base + "/duplicates", email, password)


def _shots(tmp_path: Path) -> Path:
    # TENURE_TEST_SCREENSHOTS=DIR keeps the screenshots for a person to look at.
    return Path(os.environ.get("TENURE_TEST_SCREENSHOTS") or tmp_path)


def _counts(url: str) -> tuple[int, int, int]:
    engine = create_db_engine(url)
    with make_session_factory(engine)() as session:
        people = session.scalar(select(func.count()).select_from(Person)) or 0
        merges = session.scalar(select(func.count()).where(Merge.undone_at.is_(None))) or 0
        runs = session.scalar(select(func.count()).select_from(MergeRun)) or 0
    engine.dispose()
    return people, merges, runs


def test_preview_confirm_run_and_undo_the_whole_run(database: str, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = _shots(tmp_path)
    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _log_in(page, base, "ops@example.com", "ops-password")
        expect(page).to_have_url(base + "/duplicates")

        # The page's scan button previews: nothing is merged yet
        page.get_by_role("button", name="Preview a scan of the whole base").click()
        expect(page.locator("h1")).to_have_text("Scan preview")
        merges = int(page.locator("#preview-merges").inner_text().replace(",", ""))
        review = int(page.locator("#preview-review").inner_text().replace(",", ""))
        assert merges > 0 and review > 0
        sample = page.locator("#merge-sample tbody tr")
        assert sample.count() > 0
        expect(sample.first.locator("li").first).to_contain_text(":")
        page.screenshot(path=str(shots / "scan-preview-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "scan-preview-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        assert _counts(database) == (PEOPLE, 0, 0)

        # Confirmed, it runs as one merge run
        page.get_by_role("button", name=f"Run the scan: {merges:,} merges").click()
        notice = page.locator("#done")
        expect(notice).to_contain_text("Scan finished as merge run")
        people, in_force, runs = _counts(database)
        assert runs == 1 and in_force == merges and people == PEOPLE - merges
        run_row = page.locator("#runs tbody tr").first
        expect(run_row).to_contain_text(str(in_force))
        page.screenshot(path=str(shots / "scan-done-desktop.png"), full_page=True)

        # And the whole run is undone in one action
        run_row.locator("summary", has_text="Undo the whole run").click()
        expect(run_row.locator(".confirm-box")).to_contain_text(f"Undo all {in_force} merges")
        run_row.get_by_role("button", name=f"Undo {in_force} merges").click()
        expect(page.locator("#done")).to_contain_text("undone")
        expect(page.locator("#runs tbody tr").first).to_contain_text("undone")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "scan-undone-phone.png"), full_page=True)
        browser.close()

    assert _counts(database) == (PEOPLE, 0, 1)


def test_an_analyst_sees_no_scan_merge_or_undo_button(database: str, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    engine = create_db_engine(database)
    scan_duplicates(session_factory=make_session_factory(engine), actor_id=None)
    with make_session_factory(engine)() as session:
        pair_id = session.scalar(
            select(DuplicateCandidate.id).where(DuplicateCandidate.status == "pending").limit(1)
        )
    engine.dispose()
    assert pair_id is not None

    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        _log_in(page, base, "ana@example.com", "ana-password")
        expect(page).to_have_url(base + "/duplicates")
        expect(page.locator("#runs tbody tr")).to_have_count(1)
        expect(page.locator("#merges tbody tr").first).to_contain_text("auto")
        expect(page.locator("#scan")).to_have_count(0)
        for name in ("Preview a scan of the whole base", "Undo", "Undo the whole run"):
            expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
        expect(page.locator("details.confirm")).to_have_count(0)
        page.screenshot(path=str(_shots(tmp_path) / "duplicates-analyst-phone.png"), full_page=True)

        page.goto(f"{base}/duplicates/{pair_id}")
        expect(page.locator("#evidence")).to_be_visible()
        expect(page.locator("#decide")).to_have_count(0)
        expect(page.get_by_role("button", name="Merge", exact=True)).to_have_count(0)

        # The actions refuse too (with a valid CSRF token), not only the page
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        for action in ("/duplicates/scan/preview", "/merge-runs/1/undo", "/merges/1/undo"):
            refused = page.request.post(base + action, form={"csrf_token": token or ""})
            assert refused.status == 403, action
            assert "read-only" in refused.text(), action
        browser.close()
