"""GET /api/v1/home: the figures of a book, checked against the rows the test made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenure.customers.models import Person, Task
from tenure.retention.models import RiskScore
from tenure.scores.models import PersonScore
from tenure.timeline.models import Event, EventItem
from tenure.workspace import clock
from tests.retention.history import score

NOW = datetime(2024, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _person(session, name: str, owner_id: int | None) -> int:
    first, _, last = name.partition(" ")
    row = Person(first_name=first, last_name=last, owner_id=owner_id, search_text=name.lower())
    session.add(row)
    session.flush()
    return row.id


def _event(session, person_id: int, at: datetime, kind: str, amount=None, items=(), **payload):
    row = Event(
        person_id=person_id,
        occurred_at=at,
        type=kind,
        source="logged" if kind == "call" else "test",
        amount_minor=amount,
        currency="USD" if amount is not None else None,
        payload=payload,
    )
    session.add(row)
    session.flush()
    for category in items:
        session.add(EventItem(event_id=row.id, category=category, unit_price_minor=500))
    session.flush()


def _risk(session, person_id: int, risk: float, value: int) -> None:
    session.add(
        RiskScore(
            person_id=person_id,
            as_of=NOW,
            risk=risk,
            value_minor=value,
            value_at_risk_minor=round(value * risk),
            currency="USD",
            reasons=[{"signal": "recency", "text": f"risk {risk}", "contribution": risk}],
            signals={},
        )
    )


def _task(session, person_id: int, assignee_id: int, due: datetime, done: bool = False) -> int:
    task = Task(
        person_id=person_id,
        title=f"Call {person_id} {due:%d}",
        assignee_id=assignee_id,
        due_at=due,
        done_at=NOW if done else None,
    )
    session.add(task)
    session.flush()
    return task.id


@pytest.fixture
def book(session, api_user, admin):
    """Ann (sales) owns Ada, Bob and Cy; Ben (sales) owns Dee; Eve is nobody's."""
    ann, ben = api_user("sales"), api_user("sales")
    clock.fix_now(session, NOW)
    ada = _person(session, "Ada Lovelace", ann.id)
    bob = _person(session, "Bob Brown", ann.id)
    cy = _person(session, "Cy Twombly", ann.id)
    dee = _person(session, "Dee Dee", ben.id)
    eve = _person(session, "Eve Nobody", None)
    # Revenue: Ann's last 30 days = 10,000 - 1,000 (refund); the 30 before = 4,000.
    _event(session, ada, NOW - 5 * DAY, "order", 10_000, items=("Rock", "Rock", "Jazz"))
    _event(session, ada, NOW - 3 * DAY, "refund", 1_000)
    _event(session, bob, NOW - 40 * DAY, "order", 4_000)
    _event(session, ada, NOW - 70 * DAY, "order", 99_999)  # before both periods
    _event(session, ada, NOW + DAY, "order", 55_555)  # after the clock's now
    _event(session, dee, NOW - 10 * DAY, "order", 7_000)
    _event(session, eve, NOW - 45 * DAY, "order", 500)
    _event(session, cy, NOW - 2 * DAY, "call", direction="outbound", outcome="Left a voicemail")
    _event(session, cy, NOW, "stage_changed", to="lapsed")  # derived: not activity
    # Scores: CLV and churn probability; Cy is not scored.
    for who, clv, churn in ((ada, 20_000, 0.2), (bob, 30_000, 0.6), (dee, 50_000, 0.9)):
        score(session, who, clv_minor=clv, as_of=NOW)
        session.get_one(PersonScore, who).churn_probability = churn
    # Eve has already lapsed: probability 1, counted apart from the active customers' mean.
    score(session, eve, clv_minor=0, as_of=NOW)
    session.get_one(PersonScore, eve).churn_probability = 1.0
    # Risk: Cy is below the 50% threshold; value at risk = value x risk.
    _risk(session, ada, 0.7, 20_000)  # 14,000
    _risk(session, bob, 0.55, 30_000)  # 16,500
    _risk(session, cy, 0.2, 40_000)
    _risk(session, dee, 0.9, 50_000)  # 45,000
    tasks = {
        "ann_overdue": _task(session, ada, ann.id, NOW - 2 * DAY),
        "ann_today": _task(session, bob, ann.id, NOW + 3 * timedelta(hours=1)),
        "ann_later": _task(session, bob, ann.id, NOW + 3 * DAY),
        "ann_done": _task(session, bob, ann.id, NOW - 3 * DAY, done=True),
        "ben_overdue": _task(session, dee, ben.id, NOW - DAY),
    }
    session.commit()
    people = {"ada": ada, "bob": bob, "cy": cy, "dee": dee, "eve": eve}
    return {"ann": ann, "ben": ben, "admin": admin, "tasks": tasks, **people}


def _home(client, user, **params):
    response = client.get("/api/v1/home", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_sales_user_sees_their_own_book(client, book):
    data = _home(client, book["ann"])
    assert data["scope"] == "mine" and data["today"].startswith("2024-11-01")
    kpis = data["kpis"]
    assert kpis["customers"] == 3
    assert kpis["revenue"]["by_currency"] == [
        {
            "currency": "USD",
            "last_30_days_minor": 9_000,
            "previous_30_days_minor": 4_000,
            "change": 1.25,
        }
    ]
    assert kpis["predicted_clv_12m"] == [
        {"currency": "USD", "clv_12m_minor": 50_000, "customers_with_clv": 2}
    ]
    churn = kpis["churn"]
    assert churn["mean_churn_probability"] == pytest.approx(0.4)
    assert churn["customers_with_probability"] == 2 and churn["already_churned"] == 0
    assert (churn["at_risk"], churn["share_at_risk"], churn["threshold"]) == (2, 0.6667, 0.5)

    # At risk: at or above 50%, by value at risk; Cy (20%) and Ben's Dee are left out.
    at_risk = data["at_risk"]["items"]
    assert [i["person_id"] for i in at_risk] == [book["bob"], book["ada"]]
    assert [i["value_at_risk_minor"] for i in at_risk] == [16_500, 14_000]
    assert at_risk[0]["name"] == "Bob Brown"

    # Tasks: my open ones per bucket; the done one is not counted.
    tasks = data["tasks"]
    assert (tasks["overdue"], tasks["today"], tasks["upcoming"]) == (1, 1, 1)
    assert [t["id"] for t in tasks["items"]] == [
        book["tasks"]["ann_overdue"],
        book["tasks"]["ann_today"],
    ]
    assert [t["bucket"] for t in tasks["items"]] == ["overdue", "today"]

    # Activity: my people's events newest first, in words; none after now, no stage change.
    activity = data["activity"]
    assert [(a["person_id"], a["type"]) for a in activity] == [
        (book["cy"], "call"),
        (book["ada"], "refund"),
        (book["ada"], "order"),
        (book["bob"], "order"),
        (book["ada"], "order"),
    ]
    assert activity[0]["headline"] == "Outbound call"
    assert activity[0]["details"] == ["Left a voicemail"]
    assert activity[2]["details"] == ["2 \u00d7 Rock", "1 \u00d7 Jazz"]
    assert activity[2]["person_name"] == "Ada Lovelace"


def test_an_admin_sees_the_whole_workspace_by_default(client, book):
    data = _home(client, book["admin"])
    assert data["scope"] == "everyone"
    kpis = data["kpis"]
    assert kpis["customers"] == 5
    revenue = kpis["revenue"]["by_currency"][0]
    assert (revenue["last_30_days_minor"], revenue["previous_30_days_minor"]) == (16_000, 4_500)
    assert revenue["change"] == pytest.approx(2.5556)
    assert kpis["predicted_clv_12m"][0]["clv_12m_minor"] == 100_000
    assert kpis["churn"]["mean_churn_probability"] == pytest.approx(0.5667, abs=1e-4)
    assert kpis["churn"]["already_churned"] == 1
    assert (kpis["churn"]["at_risk"], kpis["churn"]["share_at_risk"]) == (3, 0.6)
    assert [i["person_id"] for i in data["at_risk"]["items"]] == [
        book["dee"],
        book["bob"],
        book["ada"],
    ]
    assert data["tasks"]["overdue"] == 2  # Ann's and Ben's
    assert {a["person_id"] for a in data["activity"]} >= {book["dee"], book["eve"]}


def test_an_admin_may_look_at_their_own_empty_book(client, book):
    data = _home(client, book["admin"], scope="mine")
    assert data["kpis"]["customers"] == 0
    assert data["kpis"]["revenue"]["by_currency"] == []
    assert data["kpis"]["churn"]["share_at_risk"] is None
    assert data["at_risk"]["items"] == [] and data["activity"] == []


def test_only_admins_managers_and_analysts_see_everyone(client, book, api_user):
    response = client.get("/api/v1/home", headers=book["ann"].headers, params={"scope": "everyone"})
    assert response.status_code == 403
    manager = api_user("manager")
    assert _home(client, manager)["scope"] == "everyone"
    # Looking is a read: a manager's read-scoped token sees the workspace too.
    assert _home(client, api_user("manager", scope="read"))["scope"] == "everyone"
    # The read-only analyst owns no book: their Home is the whole workspace.
    analyst = api_user("analyst", scope="read")
    assert _home(client, analyst)["scope"] == "everyone"
    assert (
        _home(client, analyst)["kpis"]["customers"] == _home(client, manager)["kpis"]["customers"]
    )
    assert _home(client, analyst)["kpis"]["customers"] > 0


def test_a_bad_scope_is_refused_naming_the_field(client, book):
    response = client.get("/api/v1/home", headers=book["admin"].headers, params={"scope": "all"})
    assert response.status_code == 422 and "scope" in response.text


def test_home_needs_a_token(client):
    assert client.get("/api/v1/home").status_code == 401
