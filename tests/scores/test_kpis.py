"""GET /api/v1/analytics/kpis against values worked out by hand from the events made here.

Period: 2025-03-01 to 2025-03-31; churn by inactivity after 180 days, so a customer is
active at the start when their last order is on or after 2024-09-02, and at the end
(2025-04-01 00:00) when it is on or after 2024-10-03.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tenure.scores.kpis import Period, period_kpis

from .workspace import add_events, add_people, event

PERIOD = {"from": "2025-03-01", "to": "2025-03-31"}


def at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T12:00:00").replace(tzinfo=UTC)


@pytest.fixture
def shop(session) -> dict[str, int]:
    connection = session.connection()
    names = ["a", "b", "c", "d", "e", "f", "g", "h"]
    ids = dict(zip(names, add_people(connection, len(names)), strict=True))
    a, b, c, d, e, f, g, h = (ids[n] for n in names)
    survey = "survey_answered"
    add_events(
        connection,
        [
            event(a, at("2024-12-01"), amount=10_000),  # active at start and end
            event(a, at("2025-03-10"), amount=5_000),  # ordered in P
            event(b, at("2024-10-15"), amount=8_000),  # active at start and (just) at end
            event(c, at("2024-09-20"), amount=4_000),  # active at start, lapses in P: lost
            event(d, at("2025-03-05"), amount=3_000),  # new in P, two orders
            event(d, at("2025-03-05").replace(hour=15), amount=2_000),
            event(e, at("2025-01-10"), amount=6_000),
            event(e, at("2025-03-12"), "refund", amount=1_000),
            event(f, at("2023-01-01"), amount=7_000),  # lapsed long ago
            event(g, at("2025-04-05"), amount=9_000),  # after P: not new in P
            event(h, at("2025-03-02"), "acquisition_spend", amount=9_000),
            event(h, at("2025-03-02"), "cancellation"),  # h never ordered: not a customer
            *[
                event(a, at("2025-03-15"), survey, payload={"survey": "nps", "score": s})
                for s in (10, 9, 7, 3, 11)  # 11 is off the 0-10 scale: ignored
            ],
            *[
                event(b, at("2025-03-16"), survey, payload={"survey": "csat", "score": s})
                for s in (5, 4, 2)
            ],
            *[
                event(e, at("2025-03-17"), survey, payload={"survey": "ces", "score": s})
                for s in (3, 5)
            ],
            event(a, at("2025-02-15"), survey, payload={"survey": "nps", "score": 0}),  # before P
            event(a, at("2025-03-20"), "cancellation"),  # only counts with a churn event type
        ],
    )
    session.commit()
    return ids


def test_kpis_match_the_hand_computed_values(client, admin, shop):
    response = client.get("/api/v1/analytics/kpis", params=PERIOD, headers=admin.headers)
    assert response.status_code == 200, response.text
    kpis = response.json()
    assert kpis["customers_at_start"] == 4  # a, b, c, e
    assert kpis["customers_at_end"] == 4  # a, b, d, e
    assert kpis["customers_lost"] == 1  # c
    assert kpis["new_customers"] == 1  # d
    assert kpis["churn_rate"] == pytest.approx(1 / 4)
    assert kpis["customer_retention_rate"] == pytest.approx((4 - 1) / 4)
    assert kpis["active_customers"] == 2  # a, d ordered in P
    assert kpis["orders"] == 3
    assert kpis["order_revenue_minor"] == 5_000 + 3_000 + 2_000
    assert kpis["refunds_minor"] == 1_000
    assert kpis["revenue_minor"] == 9_000
    assert kpis["average_order_value_minor"] == round(10_000 / 3)
    assert kpis["nps"] == pytest.approx(100 * (2 - 1) / 4)  # 10, 9 promote; 3 detracts
    assert kpis["nps_answers"] == 4
    assert kpis["csat"] == pytest.approx(100 * 2 / 3)
    assert kpis["ces"] == pytest.approx(4.0)
    assert kpis["acquisition_spend_minor"] == 9_000
    assert kpis["cac_minor"] == 9_000  # one new customer
    assert kpis["roi"] == pytest.approx((5_000 - 9_000) / 9_000)  # d's revenue in P
    assert kpis["clv_to_cac"] is None  # no scores refreshed
    assert kpis["currency"] == "USD"


def test_churn_event_type_defines_who_is_lost(session, shop):
    # With cancellations as churn, inactivity no longer matters: c and f stay customers,
    # a is lost by cancelling after their last order, h (no orders) never counts.
    kpis = period_kpis(
        session,
        Period(date(2025, 3, 1), date(2025, 3, 31)),
        churn_inactivity_days=180,
        churn_event_type="cancellation",
    )
    assert kpis["customers_at_start"] == 5  # a, b, c, e, f
    assert kpis["customers_at_end"] == 5  # b, c, d, e, f
    assert kpis["customers_lost"] == 1  # a
    assert kpis["churn_rate"] == pytest.approx(1 / 5)
    assert kpis["customer_retention_rate"] == pytest.approx((5 - 1) / 5)


def test_a_period_without_surveys_or_spend_has_null_scores(client, admin, shop):
    params = {"from": "2024-01-01", "to": "2024-01-31"}
    kpis = client.get("/api/v1/analytics/kpis", params=params, headers=admin.headers).json()
    assert kpis["nps"] is None and kpis["csat"] is None and kpis["ces"] is None
    assert kpis["cac_minor"] is None and kpis["roi"] is None
    assert kpis["churn_rate"] is None  # nobody was a customer at the start
    assert kpis["orders"] == 0 and kpis["average_order_value_minor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-30", "to": "2025-03-31"}, "from"),
        ({"from": "2025-03-01", "to": "March"}, "to"),
        ({"from": "2025-04-01", "to": "2025-03-01"}, "from"),
    ],
)
def test_bad_dates_are_422_with_the_field(client, admin, params, field):
    response = client.get("/api/v1/analytics/kpis", params=params, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_kpis_need_a_token(client):
    assert client.get("/api/v1/analytics/kpis", params=PERIOD).status_code == 401
