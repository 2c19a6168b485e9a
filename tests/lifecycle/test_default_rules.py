"""The default stage model places hand-built people where docs/lifecycle.md says."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tenure.lifecycle.actions import evaluate_all_stages, evaluate_people
from tenure.lifecycle.defaults import DEFAULT_STAGES
from tenure.lifecycle.models import StageHistory
from tenure.lifecycle.queries import stage_model
from tenure.timeline.models import Event

from .helpers import AS_OF, days_ago, event, order, person, score, stage_of, store


def _workspace(session) -> dict[str, int]:
    """One person per case; the key names the stage the default rules must give."""
    p = {name: person(session, name) for name in CASES}
    store(
        session,
        [
            event(p["lead_visit"], "visit", days_ago(10)),
            event(p["lead_email_opened"], "email_opened", days_ago(3)),
            event(p["prospect_email_sent_only"], "email_sent", days_ago(3)),
            order(p["new_customer"], days_ago(20)),
            event(p["new_customer"], "visit", days_ago(21)),
            order(p["active"], days_ago(200)),
            order(p["active"], days_ago(30)),
            order(p["active_unscored"], days_ago(60)),
            order(p["active_unscored"], days_ago(10)),
            order(p["expanding_category"], days_ago(300), category="books"),
            order(p["expanding_category"], days_ago(20), category="music"),
            order(p["expanding_upsell"], days_ago(300), amount=2000),
            order(p["expanding_upsell"], days_ago(200), amount=2000),
            order(p["expanding_upsell"], days_ago(10), amount=5000),
            *[order(p["loyal"], days_ago(5 + 30 * k)) for k in range(6)],
            *[order(p["active_many_orders_low_clv"], days_ago(5 + 30 * k)) for k in range(6)],
            order(p["advocate_promoter"], days_ago(40)),
            event(
                p["advocate_promoter"],
                "survey_answered",
                days_ago(35),
                payload={"survey": "nps", "score": 10},
            ),
            order(p["advocate_referral"], days_ago(40)),
            event(p["advocate_referral"], "referral_converted", days_ago(12)),
            order(p["new_customer_promoter_turned_detractor"], days_ago(90)),
            event(
                p["new_customer_promoter_turned_detractor"],
                "survey_answered",
                days_ago(80),
                payload={"survey": "nps", "score": 10},
            ),
            event(
                p["new_customer_promoter_turned_detractor"],
                "survey_answered",
                days_ago(20),
                payload={"survey": "nps", "score": 3},
            ),
            # A CSAT 10 is not a promoter, and a non-numeric score is ignored, not an error.
            order(p["new_customer_csat_not_nps"], days_ago(30)),
            event(
                p["new_customer_csat_not_nps"],
                "survey_answered",
                days_ago(20),
                payload={"survey": "csat", "score": 10},
            ),
            event(
                p["new_customer_csat_not_nps"],
                "survey_answered",
                days_ago(19),
                payload={"survey": "nps", "score": "ten"},
            ),
            order(p["at_risk_churn"], days_ago(100)),
            order(p["at_risk_churn"], days_ago(50)),
            order(p["at_risk_overdue"], days_ago(100)),
            order(p["at_risk_overdue"], days_ago(70)),
            order(p["at_risk_not_active"], days_ago(60)),
            order(p["at_risk_not_active"], days_ago(30)),
            order(p["lapsed_p_alive"], days_ago(120)),
            order(p["lapsed_p_alive"], days_ago(60)),
            order(p["lapsed_one_time_buyer"], days_ago(400)),
            order(p["lapsed_overdue"], days_ago(100)),
            order(p["lapsed_overdue"], days_ago(90)),
            # Events after as_of do not count yet.
            order(p["prospect_future_order"], AS_OF + timedelta(days=2)),
        ],
    )
    score(session, p["active"], p_alive=0.8, clv_12m_minor=3000)
    score(session, p["expanding_category"], p_alive=0.8, clv_12m_minor=2000)
    score(session, p["expanding_upsell"], p_alive=0.8, clv_12m_minor=2500)
    score(session, p["loyal"], p_alive=0.95, clv_12m_minor=90_000)
    score(session, p["active_many_orders_low_clv"], p_alive=0.95, clv_12m_minor=1000)
    score(session, p["at_risk_churn"], p_alive=0.7, churn_probability=0.72, clv_12m_minor=500)
    score(session, p["at_risk_overdue"], p_alive=0.6, clv_12m_minor=700)
    score(session, p["at_risk_not_active"], p_alive=0.3, clv_12m_minor=800)
    score(session, p["lapsed_p_alive"], p_alive=0.05, clv_12m_minor=100)
    score(session, p["lapsed_overdue"], p_alive=0.5, clv_12m_minor=150)
    return p


CASES = (
    "prospect_no_events",
    "prospect_email_sent_only",
    "prospect_future_order",
    "lead_visit",
    "lead_email_opened",
    "new_customer",
    "new_customer_promoter_turned_detractor",
    "new_customer_csat_not_nps",
    "active",
    "active_unscored",
    "active_many_orders_low_clv",
    "expanding_category",
    "expanding_upsell",
    "loyal",
    "advocate_promoter",
    "advocate_referral",
    "at_risk_churn",
    "at_risk_overdue",
    "at_risk_not_active",
    "lapsed_p_alive",
    "lapsed_one_time_buyer",
    "lapsed_overdue",
)


def _expected(case: str) -> str:
    for key, *_ in sorted(DEFAULT_STAGES, key=lambda s: -len(s[0])):
        if case.startswith(key):
            return key
    raise AssertionError(case)


def test_default_model_has_the_documented_stages(session):
    model = stage_model(session)
    assert [s.name for s in model.stages] == [
        "Prospect",
        "Lead",
        "New customer",
        "Active",
        "Expanding",
        "Loyal",
        "Advocate",
        "At risk",
        "Lapsed",
    ]
    assert [s.key for s in model.stages if not s.in_funnel] == ["at_risk", "lapsed"]
    assert model.rules[-1].condition == {"all": []}  # the catch-all comes last


def test_default_rules_place_each_person(session):
    # Given one person per documented case
    people = _workspace(session)

    # When the rules run as of AS_OF
    result = evaluate_people(session=session, person_ids=list(people.values()), as_of=AS_OF)

    # Then each is in the stage the case names, and each placement is one change
    placed = {case: stage_of(session, person_id) for case, person_id in people.items()}
    assert placed == {case: _expected(case) for case in CASES}
    assert result.changes == len(CASES)

    # And a second run changes nothing: stage_changed events are not activity
    again = evaluate_people(session=session, person_ids=list(people.values()), as_of=AS_OF)
    assert again.changes == 0


def test_batch_in_chunks_matches_and_reruns_write_nothing(session_factory, session):
    people = _workspace(session)
    session.commit()

    result = evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, chunk_size=4)
    assert result.people >= len(CASES) and result.changes == result.people
    assert {c: stage_of(session, pid) for c, pid in people.items()} == {
        c: _expected(c) for c in CASES
    }
    rerun = evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, chunk_size=4)
    assert rerun.changes == 0

    # Time passes: a year later the one-order and recent customers have lapsed
    later = evaluate_all_stages(
        session_factory=session_factory, as_of=AS_OF + timedelta(days=400), chunk_size=7
    )
    assert stage_of(session, people["new_customer"]) == "lapsed"
    assert stage_of(session, people["prospect_no_events"]) == "prospect"
    history = session.scalar(select(func.count()).select_from(StageHistory))
    changes = session.scalar(
        select(func.count()).where(Event.type == "stage_changed", Event.source == "lifecycle")
    )
    assert history == changes == result.changes + later.changes
