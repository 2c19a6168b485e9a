"""refresh_scores on a generated workspace: rows, ranges, RFM rules, reports, the 360 view."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from tenure.scores.models import ModelReport, PersonScore, ScoreRefresh
from tenure.scores.queries import person_scores
from tenure.scores.refresh import _own_copy, refresh_scores
from tenure.scores.segments import segment_for
from tenure.timeline.models import Event

from .workspace import AS_OF, START, add_events, add_people, event, generate


def test_refresh_scores_every_customer_and_the_360_shows_them(
    session, session_factory, settings, client, admin
):
    # Given a generated workspace, one customer with a known history and one without orders
    connection = session.connection()
    generate(connection)
    known, no_orders = add_people(connection, 2, prefix="k")
    first_day = START + timedelta(days=100, hours=9)
    add_events(
        connection,
        [
            event(known, first_day, amount=1000),
            event(known, first_day + timedelta(hours=3), amount=500),  # same day: merged
            event(known, first_day + timedelta(days=10), amount=3000),
            event(known, first_day + timedelta(days=40), amount=5000),
            event(known, first_day + timedelta(days=41), "refund", amount=1000),
            event(known, AS_OF + timedelta(hours=2), amount=99_999),  # after as_of: ignored
            event(no_orders, first_day, "visit"),
        ],
    )
    session.commit()

    # When the scores are refreshed
    result = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)

    # Then every customer with an order by as_of has one row, and nobody else
    customers = session.scalar(
        select(func.count(func.distinct(Event.person_id))).where(
            Event.type == "order", Event.occurred_at <= AS_OF
        )
    )
    rows = session.scalars(select(PersonScore)).all()
    assert result.customers == customers == len(rows)
    assert session.get(PersonScore, no_orders) is None
    assert result.reports == {"bgnbd": "fitted", "gamma_gamma": "fitted", "churn": "fitted"}

    # and the RFM inputs of the known customer are those of its events
    mine = session.get(PersonScore, known)
    assert mine is not None
    age = (AS_OF.date() - first_day.date()).days
    assert (mine.purchase_days, mine.frequency) == (3, 2)
    assert (mine.age_days, mine.recency_days) == (age, age - 40)
    assert mine.monetary_minor == (3000 + 5000) // 2  # mean of the repeat days' totals
    assert mine.revenue_minor == 9500
    assert mine.historical_clv_minor == round((9500 - 1000) * settings.clv_margin)

    # and every value is in its range, every segment follows the documented grid
    p_alive = np.array([r.p_alive for r in rows])
    assert np.all((p_alive >= 0) & (p_alive <= 1))
    assert all(r.expected_purchases_90d >= 0 and r.clv_12m_minor >= 0 for r in rows)
    assert all(0 <= r.churn_probability <= 1 for r in rows)
    assert all(r.rfm_segment == segment_for(r.r_score, r.f_score, r.m_score) for r in rows)
    assert {r.r_score for r in rows} == {1, 2, 3, 4, 5}
    # Lapsed customers (no order in the horizon) have churned already; the rest are scored.
    lapsed = [r for r in rows if r.recency_days > settings.churn_inactivity_days]
    assert lapsed and all(r.churn_probability == 1.0 for r in lapsed)
    # Their shared reason is kept once, with the refresh, and read as theirs
    assert all(r.churn_reasons is None for r in lapsed)
    lapsed_scores = person_scores(session, lapsed[0].person_id)
    assert lapsed_scores is not None
    assert lapsed_scores["churn_reasons"] == [
        {
            "feature": "churned",
            "value": f"no order in {settings.churn_inactivity_days} days",
            "label": "already churned",
            "direction": None,
        }
    ]
    assert all(len(r.churn_reasons) == 3 for r in rows if r not in lapsed)
    refresh = session.scalars(select(ScoreRefresh)).one()
    assert {r.refresh_id for r in rows} == {refresh.id} and refresh.model_version == result.version
    # One-time buyers have no repeat spend; BG/NBD says they are alive (FHL 2005).
    one_timers = [r for r in rows if r.frequency == 0]
    assert one_timers and all(r.monetary_minor == 0 and r.p_alive == 1 for r in one_timers)

    # and the reports hold parameters, the backtest and the churn accuracy
    reports = {r.model: r for r in session.scalars(select(ModelReport))}
    assert set(reports["bgnbd"].params) >= {"r", "alpha", "a", "b"}
    assert reports["bgnbd"].log_likelihood < 0
    backtest = reports["bgnbd"].metrics["backtest"]
    assert backtest["holdout_days"] == settings.churn_inactivity_days
    assert [row["frequency"] for row in backtest["by_frequency"]][-1] == "7+"
    assert backtest["cumulative"]["customers"] > 0
    churn = reports["churn"].metrics
    assert 0.5 < churn["calibrated_cv_roc_auc"] <= 1 and 0 < churn["brier"] < 0.25
    assert sum(b["count"] for b in churn["calibration_table"]) == churn["n_rows"]

    # and the 360 view and the analytics API show them
    body = client.get(f"/api/v1/people/{known}", headers=admin.headers).json()
    assert body["scores"]["rfm_segment"] == mine.rfm_segment
    assert body["scores"]["frequency"] == 2
    assert body["scores"]["churn_reasons"][0]["label"]
    assert client.get(f"/api/v1/people/{no_orders}", headers=admin.headers).json()["scores"] is None
    models = client.get("/api/v1/analytics/models", headers=admin.headers).json()["items"]
    assert [m["model"] for m in models] == ["bgnbd", "gamma_gamma", "churn"]
    charts = client.get("/api/v1/analytics/charts", headers=admin.headers).json()
    assert charts["overview"]["customers"] == customers
    assert sum(charts["clv_histogram"]["counts"]) + charts["clv_histogram"]["overflow"] == customers
    assert sum(s["customers"] for s in charts["segments"]) == customers
    assert charts["cohorts"]["sizes"] and charts["churn_calibration"]


def test_scores_are_null_before_the_first_refresh(session, client, admin):
    (person,) = add_people(session.connection(), 1)
    add_events(session.connection(), [event(person, START, amount=1000)])
    session.commit()
    body = client.get(f"/api/v1/people/{person}", headers=admin.headers).json()
    assert body["scores"] is None
    assert client.get("/api/v1/analytics/models", headers=admin.headers).json() == {"items": []}


def test_thin_data_skips_the_models_with_a_reason(session, session_factory, settings):
    # Given twelve customers who all keep buying: no churner to learn from
    connection = session.connection()
    people = add_people(connection, 12)
    rows = [
        event(p, START + timedelta(days=30 * k + i), amount=2000 + 100 * i)
        for i, p in enumerate(people)
        for k in range(23)
    ]
    add_events(connection, rows)
    session.commit()

    result = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)

    assert result.reports["churn"] == "skipped"
    report = session.scalar(select(ModelReport).where(ModelReport.model == "churn"))
    assert report is not None and "0 of them churned" in (report.reason or "")
    scores = session.scalars(select(PersonScore)).all()
    assert len(scores) == 12 and all(s.churn_probability is None for s in scores)
    assert all(s.p_alive is not None for s in scores)


def test_an_empty_workspace_refreshes_to_no_scores(session, session_factory, settings):
    result = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)
    assert result.customers == 0
    assert set(result.reports.values()) == {"skipped"}
    assert session.scalar(select(func.count()).select_from(PersonScore)) == 0


def test_a_refresh_writes_only_the_rows_whose_values_changed(session, session_factory, settings):
    # Given a refreshed workspace
    connection = session.connection()
    generate(connection)
    session.commit()
    first = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)
    rows = {r.person_id: r for r in session.scalars(select(PersonScore))}
    assert first.changed_person_ids == sorted(rows) and len(rows) == first.customers
    clv_before = {pid: r.historical_clv_minor for pid, r in rows.items()}
    # a customer the churn model scores (not lapsed already)
    derived = next(pid for pid, r in sorted(rows.items()) if r.recency_days < 30)
    session.expire_all()

    # When it is refreshed again on the same events, the chain's own derived events (a
    # stage change, a segment entry) added since: nothing is written
    add_events(
        connection,
        [
            event(derived, AS_OF - timedelta(days=2), "stage_changed"),
            event(derived, AS_OF - timedelta(days=2), "segment_entered"),
        ],
    )
    session.commit()
    again = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)
    assert again.customers == first.customers and again.changed_person_ids == []
    versions = set(
        session.scalars(
            select(ScoreRefresh.model_version).join(
                PersonScore, PersonScore.refresh_id == ScoreRefresh.id
            )
        )
    )
    assert versions == {first.version} != {again.version}

    # When one customer is refunded long ago (money the models do not fit)
    refunded, gone = [pid for pid in sorted(rows) if pid != derived][:2]
    add_events(connection, [event(refunded, AS_OF - timedelta(days=400), "refund", amount=700)])
    session.commit()
    third = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)

    # Then only that row is rewritten
    assert third.changed_person_ids == [refunded]
    session.expire_all()
    mine = session.get(PersonScore, refunded)
    assert mine is not None and _version(session, mine) == third.version
    assert mine.historical_clv_minor == clv_before[refunded] - round(700 * settings.clv_margin)
    untouched = session.get(PersonScore, gone)
    assert untouched is not None and _version(session, untouched) == first.version

    # When a customer loses every order, their row goes (and the refit moves the others)
    connection = session.connection()
    connection.execute(Event.__table__.delete().where(Event.person_id == gone))
    session.commit()
    fourth = refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)
    assert gone in fourth.changed_person_ids
    session.expire_all()
    assert session.get(PersonScore, gone) is None
    assert session.scalar(select(func.count()).select_from(PersonScore)) == len(rows) - 1


def _version(session, row: PersonScore) -> str:
    """The version of the refresh that last changed ``row``."""
    refresh = session.get(ScoreRefresh, row.refresh_id)
    assert refresh is not None
    return refresh.model_version


def test_the_churn_models_copy_of_the_aggregates_shares_no_index_cache() -> None:
    """The churn model trains in a thread on its own copy: a plain ``DataFrame.copy``
    shares the index's lookup table, which one thread built while the other read it (a
    KeyError for labels that were there)."""
    frame = pd.DataFrame({"n": [1, 2, 3]}, index=pd.Index([7, 8, 9], name="person_id"))
    frame.loc[[8]]  # builds the original's lookup table
    assert frame.copy().index._cache is frame.index._cache  # why the plain copy will not do
    copied = _own_copy(frame)
    assert copied.index._cache is not frame.index._cache
    assert copied.loc[[8, 9], "n"].tolist() == [2, 3] and copied.equals(frame)
