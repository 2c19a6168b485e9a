"""The jobs page's recent list: the frequent schedules' successes are folded away so the
nightly chain stays in sight; a task or state filter finds any job; bad filters are 422."""

from __future__ import annotations

import re

from sqlalchemy import update

from tenure.identity.actions import create_user
from tenure.jobs import enqueue
from tenure.jobs.models import Job
from tenure.jobs.registry import Schedule
from tenure.jobs.schedules import sync_schedules
from tests.pages import log_in

TASK = "test.write_effect"


def _recent(html: str) -> list[int]:
    table = html.split('id="recent"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'data-job-id="(\d+)"', table)]


def test_the_recent_list_folds_the_frequent_schedules_away(client, session):  # type: ignore[no-untyped-def]
    create_user(session=session, email="admin@example.com", role="admin", password="pass-word-123")
    sync_schedules(
        session,
        [
            Schedule("nightly-test", TASK, "0 3 * * *"),
            Schedule("tick-test", TASK, "* * * * *"),
        ],
    )
    nightly = enqueue(session=session, task=TASK, schedule="nightly-test")
    ticks = [enqueue(session=session, task=TASK, schedule="tick-test") for _ in range(40)]
    failed_tick = enqueue(session=session, task=TASK, schedule="tick-test")
    session.execute(update(Job).values(state="succeeded"))
    session.execute(update(Job).where(Job.id == failed_tick).values(state="dead", error="Boom"))
    session.commit()
    log_in(client, "admin@example.com", "pass-word-123")

    # The ticks' 40 successes would push the nightly job out of 30 rows: folded away
    page = client.get("/jobs")
    assert page.status_code == 200
    assert _recent(page.text) == [failed_tick, nightly]
    assert "Succeeded runs of tick-test" in page.text
    # A schedule's tasks link to their recent jobs
    assert f'href="/jobs?task={TASK}#recent-jobs"' in page.text

    # Asked for, every run shows, 30 at a time, and the older ones are a link away
    every = client.get("/jobs?frequent=true")
    assert _recent(every.text) == [failed_tick, *reversed(ticks)][:30]
    older = re.search(r'href="([^"]+)" id="older-jobs"', every.text)
    assert older is not None
    rest = client.get(older[1].replace("&amp;", "&"))
    assert _recent(rest.text) == [*list(reversed(ticks))[29:], nightly]

    # A task or a state filter finds the jobs whatever their schedule
    dead = client.get("/jobs?state=dead")
    assert _recent(dead.text) == [failed_tick]
    by_task = client.get(f"/jobs?task={TASK}&state=succeeded")
    assert _recent(by_task.text) == [*reversed(ticks), nightly][:30]
    assert _recent(client.get("/jobs?task=nothing.here").text) == []

    # Bad filters name their field
    for query, field in (
        ("state=sleeping", "state"),
        ("before=0", "before"),
        ("frequent=maybe", "frequent"),
    ):
        bad = client.get(f"/jobs?{query}")
        assert bad.status_code == 422 and field in bad.text.lower()
