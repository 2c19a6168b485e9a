"""Each warning signal on a constructed history, read from the database (both backends)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import binomtest

from tenure.retention.actions import refresh_retention
from tenure.retention.feedback import comment_is_negative, read_answer
from tenure.retention.schemas import RetentionConfig
from tenure.retention.signals import (
    drop_p_values,
    engagement_signals,
    incident_signals,
    overdue_signals,
    span_words,
    typical_intervals_days,
)

from .history import AS_OF, add_event, orders_every, person, score

CONFIG = RetentionConfig()


def _kinds(found, person_id):
    return {s.kind: s for s in found.get(person_id, [])}


# -- the drop test ------------------------------------------------------------------------


def test_drop_p_values_are_scipys_binomial_test():
    # Conditional test of two Poisson rates: recent | total ~ Binomial(n, t_recent / t_total)
    cases = [(0, 20, 42, 182), (3, 60, 42, 182), (10, 40, 42, 182), (5, 5, 14, 28)]
    ours = drop_p_values(*(np.array(c, dtype=float) for c in zip(*cases, strict=True)))
    for (recent, baseline, t_recent, t_baseline), p in zip(cases, ours, strict=True):
        reference = binomtest(
            recent, recent + baseline, t_recent / (t_recent + t_baseline), alternative="less"
        ).pvalue
        np.testing.assert_allclose(p, reference, rtol=1e-12)


def test_the_drop_test_flags_real_drops_and_not_noise():
    # Given simulated customers at 3 engagement events a week over 26 + 6 weeks: some
    # steady, some down by 70% in the last 6 weeks (expected 18 events -> 5.4)
    rng = np.random.default_rng(2026)
    n, weekly, recent_days, baseline_days = 4000, 3.0, 42.0, 182.0
    baseline = rng.poisson(weekly / 7 * baseline_days, n)
    steady = rng.poisson(weekly / 7 * recent_days, n)
    dropped = rng.poisson(0.3 * weekly / 7 * recent_days, n)
    # When the test runs at alpha = 0.05
    t_r, t_b = np.full(n, recent_days), np.full(n, baseline_days)
    false_alarms = (drop_p_values(steady, baseline, t_r, t_b) < 0.05).mean()
    power = (drop_p_values(dropped, baseline, t_r, t_b) < 0.05).mean()
    # Then noise is flagged at most at the nominal rate (the exact test is conservative:
    # 3.4% measured with this seed) and the drop almost always (95.2% measured; 81% at
    # 2 events a week, 47% at 1: thin baselines need bigger drops)
    assert false_alarms <= 0.05
    assert power >= 0.94


def test_engagement_drop_against_the_customers_own_baseline(session):
    # Given a customer who visited 3 times a week for 26 weeks and once in the last 6,
    # a quieter customer whose rate never changed (1 a week), and a newcomer
    dropped, steady, newcomer = person(session), person(session), person(session)
    recent_start = AS_OF - timedelta(weeks=6)
    for week in range(26):
        start = recent_start - timedelta(weeks=26 - week)
        for i in range(3):
            add_event(session, dropped, start + timedelta(days=2 * i, hours=1), "visit")
        add_event(session, steady, start + timedelta(days=1), "email_opened")
    add_event(session, dropped, recent_start + timedelta(days=3), "visit")
    for week in range(6):
        add_event(session, steady, recent_start + timedelta(weeks=week, days=2), "email_opened")
    for day in range(10):
        add_event(session, newcomer, recent_start - timedelta(days=10 - day), "visit")

    # When signals are read
    found = engagement_signals(session.connection(), AS_OF, CONFIG)

    # Then only the real drop is flagged, with its rates and p-value in words
    signal = _kinds(found, dropped)["engagement_drop"]
    assert signal.facts["recent_events"] == 1 and signal.facts["baseline_events"] == 78
    assert signal.text.startswith("engagement fell to 0.2 a week in the last 6 weeks from 3.0")
    assert "p < 0.001" in signal.text
    np.testing.assert_allclose(signal.strength, 1 - (1 / 6) / 3.0, rtol=0.01)
    assert steady not in found
    assert newcomer not in found  # 10 days of baseline is no baseline


def test_complaints_and_negative_feedback_in_the_window(session):
    # Given two complaints in the last 30 days and one older, a CSAT of 2, a CSAT of 4, a
    # negative and a positive comment
    angry, mixed, happy = person(session), person(session), person(session)
    add_event(session, angry, AS_OF - timedelta(days=20), "complaint")
    add_event(session, angry, AS_OF - timedelta(days=3, hours=5), "complaint")
    add_event(session, angry, AS_OF - timedelta(days=45), "complaint")
    add_event(
        session, mixed, AS_OF - timedelta(days=5), "survey_answered",
        payload={"survey": "csat", "score": 2},
    )  # fmt: skip
    late = "Delivery was late and support was rude"
    add_event(
        session, mixed, AS_OF - timedelta(days=4), "survey_answered",
        payload={"survey": "csat", "score": "4", "comment": late},
    )  # fmt: skip
    add_event(
        session, happy, AS_OF - timedelta(days=4), "survey_answered",
        payload={"survey": "csat", "score": 5, "comment": "Not bad at all, quick delivery"},
    )  # fmt: skip

    found = incident_signals(session.connection(), AS_OF, CONFIG)

    complaint = _kinds(found, angry)["complaint"]
    assert complaint.text == "2 complaints in 30 days (last on 2024-10-28)"
    np.testing.assert_allclose(complaint.strength, 1 - 0.4**2)
    parts = _kinds(found, mixed)["complaint"].text.split("; ")
    assert parts == [
        "CSAT 2 on 2024-10-26",
        "negative comment on 2024-10-27: “Delivery was late and support was rude”",
    ]
    assert happy not in found


def test_comment_reading():
    assert comment_is_negative("The app is useless")
    assert comment_is_negative("I am not happy with the refund")
    assert not comment_is_negative("not bad, not bad at all")
    assert not comment_is_negative("Great service")
    # A sentiment set by verbatim analysis wins over the word list
    assert read_answer({"comment": "terrible!", "sentiment": 0.4}).negative_comment is False
    assert read_answer({"comment": "fine", "sentiment": "negative"}).negative_comment is True
    assert read_answer({"survey": "nps", "score": 7.5}).score is None


def test_detractor_is_the_latest_nps_answer(session):
    # Given a detractor, a detractor who later answered 9, and a 7 (passive)
    detractor, recovered, passive = person(session), person(session), person(session)
    nps = "survey_answered"
    add_event(
        session, detractor, AS_OF - timedelta(days=29), nps, payload={"survey": "nps", "score": 3}
    )
    add_event(
        session, recovered, AS_OF - timedelta(days=60), nps, payload={"survey": "nps", "score": 2}
    )
    add_event(
        session, recovered, AS_OF - timedelta(days=10), nps, payload={"survey": "nps", "score": 9}
    )
    add_event(
        session, passive, AS_OF - timedelta(days=10), nps, payload={"survey": "nps", "score": 7}
    )

    found = incident_signals(session.connection(), AS_OF, CONFIG)

    signal = _kinds(found, detractor)["detractor"]
    assert signal.text == "NPS 3 on 2024-10-02"
    np.testing.assert_allclose(signal.strength, 0.5 + 0.5 * 3 / 6)
    assert recovered not in found and passive not in found


def test_sla_breach(session):
    customer = person(session)
    add_event(session, customer, AS_OF - timedelta(days=2), "sla_breached")
    add_event(session, customer, AS_OF - timedelta(days=90), "sla_breached")  # outside window

    found = incident_signals(session.connection(), AS_OF, CONFIG)

    signal = _kinds(found, customer)["sla_breach"]
    assert signal.text == "1 SLA breach in 30 days (last on 2024-10-29)"
    assert signal.strength == pytest.approx(0.5)


def test_overdue_purchase_against_the_customers_rhythm(session):
    # Given a customer who ordered every 6 weeks for a year, then none for 19 weeks, and
    # one with the same rhythm whose last order was 5 weeks ago
    lapsing, regular = person(session), person(session)
    orders_every(session, lapsing, start=AS_OF - timedelta(weeks=19 + 48), days=42, count=9)
    orders_every(session, regular, start=AS_OF - timedelta(weeks=5 + 48), days=42, count=9)

    found = overdue_signals(session.connection(), AS_OF, CONFIG, prior=None)

    signal = _kinds(found, lapsing)["overdue"]
    assert signal.text == "orders every ~6 weeks, none for 19 weeks (longest gap before: 6 weeks)"
    assert signal.facts["typical_interval_days"] == 42.0
    assert signal.facts["days_since_last_order"] == 19 * 7
    np.testing.assert_allclose(signal.strength, 1 - np.exp(-133 / 42))
    assert regular not in found


def test_a_bursty_buyer_is_judged_by_their_own_pauses(session):
    # Given orders in bursts (3 within a week, then ~10 weeks off), now 8 weeks quiet
    bursty = person(session)
    start = AS_OF - timedelta(weeks=8 + 33)
    for burst in range(4):
        for day in (0, 2, 5):
            add_event(
                session, bursty, start + timedelta(weeks=11 * burst, days=day), "order", amount=900
            )

    found = overdue_signals(session.connection(), AS_OF, CONFIG, prior=None)

    # Then 8 weeks is beyond 2x the mean interval (~3 weeks) but not their longest pause
    assert bursty not in found


def test_the_bgnbd_prior_shrinks_a_thin_rhythm():
    # One repeat 14 days after the first order: alone a 2-week rhythm; with the demo's
    # BG/NBD prior (r = 0.27, alpha = 6.0 weeks) (r + 1) / (alpha + 2) per week
    no_prior = typical_intervals_days(np.array([1.0]), np.array([14.0]), None)
    with_prior = typical_intervals_days(np.array([1.0]), np.array([14.0]), (0.27, 6.0))
    assert np.isnan(no_prior[0])  # one interval is no rhythm without a prior
    np.testing.assert_allclose(with_prior[0], 7 * (6.0 + 2) / (0.27 + 1), rtol=1e-12)
    many = typical_intervals_days(np.array([20.0]), np.array([140.0]), (0.27, 6.0))
    # 20 repeats in 20 weeks: 7 days alone, 7 x 26 / 20.27 = 9.0 days shrunk
    np.testing.assert_allclose(many[0], 7 * (6.0 + 20) / (0.27 + 20), rtol=1e-12)


def test_span_words():
    assert [span_words(d) for d in (1, 10, 42, 133, 400)] == [
        "1 day",
        "10 days",
        "6 weeks",
        "19 weeks",
        "13 months",
    ]


def test_p_alive_drop_since_the_previous_score_version(session):
    # Given scores where a customer's P(alive) is 0.8, and a retention refresh
    falling, stable = person(session), person(session)
    score(session, falling, p_alive=0.8, version="1.a")
    score(session, stable, p_alive=0.6, version="1.a")
    refresh_retention(session=session, as_of=AS_OF)
    again = refresh_retention(session=session, as_of=AS_OF)
    assert "p_alive_drop" not in again.signal_counts  # same version: nothing to compare

    # When a new score version has it at 0.35 (and the other at 0.55)
    score(session, falling, p_alive=0.35, version="1.b")
    score(session, stable, p_alive=0.55, version="1.b")
    result = refresh_retention(session=session, as_of=AS_OF)

    # Then the fall is a signal, the small dip is not
    assert result.signal_counts == {"p_alive_drop": 1}
    from tenure.retention.queries import person_risk

    reasons = person_risk(session, falling)["reasons"]
    assert reasons[0]["text"] == "P(alive) fell from 80% to 35% since the scores of 2024-10-31"
    assert person_risk(session, stable)["reasons"] == []
