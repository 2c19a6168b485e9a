"""The demo's survey answers, complaints and referrals: drawn from the customers' own
orders, on their scales, read by the KPIs and the retention signals, told in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tenure.config import Settings
from tenure.datasets.demo import build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.retention.schemas import RetentionConfig
from tenure.retention.signals import incident_signals
from tenure.scores.kpis import Period, period_kpis
from tenure.timeline.models import Event
from tenure.timeline.story import tell
from tenure.workspace.clock import now

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_the_demo_customers_answer_surveys_complain_and_refer(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=600)
    with make_session_factory(engine)() as session:
        today = now(session)
        events = session.execute(
            select(Event.person_id, Event.type, Event.occurred_at, Event.payload).where(
                Event.type.in_(("order", "survey_answered", "complaint", "referral_converted"))
            )
        ).all()
        kpis = period_kpis(
            session,
            Period(date(1997, 1, 1), today.date()),
            churn_inactivity_days=180,
            churn_event_type=None,
        )
        with engine.connect() as connection:
            signals = incident_signals(connection, today, RetentionConfig())
        survey_event = session.execute(
            select(Event.type, Event.payload, Event.source, Event.channel)
            .where(Event.type == "survey_answered", Event.payload["survey"].as_string() == "nps")
            .limit(1)
        ).one()
    engine.dispose()

    orders: dict[int, list[datetime]] = {}
    for person_id, kind, at, _ in events:
        if kind == "order":
            orders.setdefault(person_id, []).append(_utc(at))
    answers = [
        (p, _utc(at), payload) for p, kind, at, payload in events if kind == "survey_answered"
    ]
    by_survey = {s: [a for a in answers if a[2]["survey"] == s] for s in SCALES}
    assert all(by_survey.values()), {s: len(a) for s, a in by_survey.items()}
    for person_id, at, payload in answers:
        low, high = SCALES[payload["survey"]]
        assert low <= payload["score"] <= high
        # After one of the customer's own orders (within ten days and a night), before today.
        assert person_id in orders
        assert any(timedelta(0) < at - o <= timedelta(days=11) for o in orders[person_id])
        assert at < today
    nps_scores = [payload["score"] for _, _, payload in by_survey["nps"]]
    assert {"promoter", "detractor"} <= {
        "promoter" if s >= 9 else "passive" if s >= 7 else "detractor" for s in nps_scores
    }

    # Frequent buyers recommend more than one-time buyers.
    def promoter_share(frequent: bool) -> float:
        picked = [
            payload["score"] >= 9
            for p, _, payload in by_survey["nps"]
            if (len(orders[p]) >= 3) == frequent
        ]
        return sum(picked) / len(picked)

    assert promoter_share(True) > promoter_share(False)

    complaints = [(p, _utc(at)) for p, kind, at, _ in events if kind == "complaint"]
    assert complaints and all(at < today for _, at in complaints)
    referrals = [(p, payload) for p, kind, _, payload in events if kind == "referral_converted"]
    assert referrals
    for referrer, payload in referrals:
        referred = payload["referred_person_id"]
        assert referred != referrer and min(orders[referred]) > min(orders[referrer])
        assert payload["referred_name"]

    # The KPIs read them: NPS, CSAT and CES have answers.
    assert kpis["nps_answers"] == len(by_survey["nps"])
    assert kpis["nps"] is not None and -100 <= kpis["nps"] <= 100
    assert kpis["csat"] is not None and kpis["ces"] is not None
    # Retention reads them: recent complaints and detractors are warning signals.
    kinds = {signal.kind for person_signals in signals.values() for signal in person_signals}
    assert "complaint" in kinds

    # The timeline tells an answer in words.
    kind, payload, source, channel = survey_event
    line = tell(
        {"type": kind, "payload": payload, "source": source, "channel": channel, "items": []}
    )
    assert line.headline == f"NPS answer: {payload['score']} of 10"
    assert line.details and line.details[0] in {"promoter", "passive", "detractor"}
