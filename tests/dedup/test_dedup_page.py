"""The review page in Chromium: open a pair side by side, merge it, undo from the notice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.dedup.merge import person_exists
from tenure.dedup.models import DuplicateCandidate, Merge
from tenure.dedup.scan import scan_duplicates
from tenure.identity.actions import create_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, log_in, require_chromium, running_server
from tests.dedup.test_dedup_scan import write_base

pytestmark = pytest.mark.browser


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'duplicates.db'}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        create_user(session=session, email="ops@example.com", role="admin", password="ops-password")
    write_base(factory, 300)
    report = scan_duplicates(session_factory=factory, actor_id=None)
    assert report.queued >= 2
    engine.dispose()
    yield url


def test_merge_a_pair_from_the_side_by_side_view(database: str) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        log_in(page, base + "/duplicates", "ops@example.com", "ops-password")
        expect(page).to_have_url(base + "/duplicates")
        expect(page.get_by_role("link", name="Duplicates")).to_have_attribute(
            "aria-current", "page"
        )
        queue = page.locator("#queue tbody tr")
        pending = queue.count()
        assert pending >= 2
        expect(page.locator("#merges tbody tr").first).to_contain_text("auto")

        queue.first.get_by_role("link", name="Review").click()
        pair_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        table = page.locator("#side-by-side")
        expect(table).to_contain_text("First name")
        expect(table.locator("th#left-head")).to_contain_text("#")
        expect(page.locator("#evidence tbody tr").first).to_contain_text("First name")
        # The matcher's decision, in words, closes the evidence.
        expect(page.locator("#evidence #decision")).to_contain_text("review")
        expect(page.locator("#decide input[name=keep_id]:checked")).to_have_count(1)

        page.get_by_role("button", name="Merge").click()
        notice = page.locator("#done")
        expect(notice).to_contain_text("Merged (merge")
        # The reviewer lands on the next pair of the queue.
        expect(page).not_to_have_url(f"{base}/duplicates/{pair_id}?done")
        page.get_by_role("link", name="All pairs").click()
        expect(page.locator("#queue tbody tr")).to_have_count(pending - 1)
        expect(page.locator("#pending-count")).to_have_text(f"{pending - 1} pending")
        browser.close()

    engine = create_db_engine(database)
    with make_session_factory(engine)() as session:
        pair = session.get(DuplicateCandidate, pair_id)
        assert pair is not None and pair.status == "merged"
        merge = session.scalar(select(Merge).where(Merge.id == pair.merge_id))
        assert merge is not None and merge.source == "review" and merge.merged_by_id is not None
        assert person_exists(session, merge.survivor_id)
        assert not person_exists(session, merge.loser_id)
    engine.dispose()


def test_undo_from_the_recent_merges(database: str) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(database) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        log_in(page, base + "/duplicates", "ops@example.com", "ops-password")
        first = page.locator("#merges tbody tr").first
        merge_id = int(first.locator("td").first.inner_text())
        # Undo asks first: nothing happens until the confirm button
        first.locator("summary", has_text="Undo").click()
        first.get_by_role("button", name="Undo merge").click()
        expect(page.locator("#done")).to_contain_text(f"Merge {merge_id} undone")
        expect(page.locator("#merges tbody tr").first).to_contain_text("undone")
        browser.close()

    engine = create_db_engine(database)
    with make_session_factory(engine)() as session:
        merge = session.get(Merge, merge_id)
        assert merge is not None and merge.undone_at is not None
        assert person_exists(session, merge.loser_id)
    engine.dispose()
