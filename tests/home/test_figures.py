"""Home's stored key figures (``home.figures``): computed by the ``home.figures`` job for
every book, read by key, equal to the live sums when computed, and shown "as of" until
the job runs again; before it first runs, Home adds them up live."""

from __future__ import annotations

from sqlalchemy import select

from tenure.all_tasks import schedules
from tenure.customers.models import Person
from tenure.home.figures import refresh
from tenure.home.models import HomeFigures
from tenure.home.tasks import TASK
from tenure.jobs.registry import TASKS
from tests.home.test_home_api import DAY, NOW, _event, _home, _person, book
from tests.pages import log_in_as

__all__ = ["book"]  # the fixture, shared with the API's tests


def _run_the_job(session) -> None:
    """What the ``home.figures`` job does, in the test's transaction (a worker would not
    see the test's rows)."""
    refresh(session)
    session.commit()


def _books(client, book) -> dict[str, dict]:
    return {
        "ann": _home(client, book["ann"])["kpis"],
        "ben": _home(client, book["ben"])["kpis"],
        "everyone": _home(client, book["admin"])["kpis"],
        "admin's own (empty)": _home(client, book["admin"], scope="mine")["kpis"],
    }


def test_the_stored_figures_are_the_live_sums_of_every_book(session, client, book):
    live = _books(client, book)
    assert all(kpis["as_of"] is None for kpis in live.values())  # not computed yet: live
    _run_the_job(session)

    stored = _books(client, book)
    for name, kpis in stored.items():
        assert kpis.pop("as_of") is not None, name
        assert kpis == {k: v for k, v in live[name].items() if k != "as_of"}, name
    assert stored["ann"]["customers"] == 3 and stored["everyone"]["customers"] == 5
    books = set(session.scalars(select(HomeFigures.book)))
    assert books == {"everyone", f"owner:{book['ann'].id}", f"owner:{book['ben'].id}"}


def test_stored_figures_hold_until_the_job_runs_again(session, client, book):
    _run_the_job(session)
    before = _home(client, book["ann"])
    # A new order in the last 30 days and a new customer for Ann; a task stays live.
    _event(session, book["bob"], NOW - DAY, "order", 1_000)
    _person(session, "Fay New", book["ann"].id)
    session.commit()

    held = _home(client, book["ann"])
    assert held["kpis"] == before["kpis"]
    assert held["tasks"] == before["tasks"]

    _run_the_job(session)
    after = _home(client, book["ann"])["kpis"]
    assert after["customers"] == 4
    assert after["revenue"]["by_currency"][0]["last_30_days_minor"] == 10_000
    assert after["as_of"] >= before["kpis"]["as_of"]


def test_an_owner_who_owned_nobody_then_sees_an_empty_book_as_of_then(session, client, book):
    session.execute(
        Person.__table__.update().where(Person.owner_id == book["ben"].id).values(owner_id=None)
    )
    session.commit()
    _run_the_job(session)
    assert session.get(HomeFigures, f"owner:{book['ben'].id}") is None  # dropped
    kpis = _home(client, book["ben"])["kpis"]
    assert kpis["as_of"] is not None
    assert (kpis["customers"], kpis["revenue"]["by_currency"], kpis["predicted_clv_12m"]) == (
        0,
        [],
        [],
    )
    assert kpis["churn"]["share_at_risk"] is None and kpis["churn"]["threshold"] == 0.5


def test_the_job_is_registered_and_scheduled(settings):
    assert TASK in TASKS
    assert TASK in {schedule.task for schedule in schedules(settings)}


def test_the_page_says_when_its_figures_were_computed(session, client, book):
    log_in_as(client, session, "admin", email="home@example.com", password="pw-home-123")
    assert 'id="kpis-as-of"' not in client.get("/").text  # live until the job runs
    _run_the_job(session)
    page = client.get("/").text
    # When they were computed (system time), not "as of": a demo's day is 1998-07-01.
    assert 'id="kpis-as-of"' in page and "Key figures computed at" in page
    assert "People in the workspace" in page
