"""Next-best-action rules on a constructed data set with a known A -> B pattern and lag."""

from __future__ import annotations

from datetime import timedelta

import jinja2
import numpy as np
import pandas as pd
import pytest

from tenure.retention import nba
from tenure.retention.actions import record_nba_rules
from tenure.retention.queries import nba_rules, next_best_action, template_functions

from .history import AS_OF, add_event, person

T0 = (AS_OF - timedelta(days=400)).replace(hour=10)
WINDOW = 90


def _buy(session, who, day_offset, *categories, start=T0):
    add_event(
        session,
        who,
        start + timedelta(days=day_offset),
        "order",
        amount=1000,
        items=list(categories),
    )


def build(session) -> dict[str, int]:
    """The data set; the expected figures are worked out by hand in the test below."""
    people = {}
    # 10 buyers of A on day 0; 5 buy B 30, 30, 60, 60 and 90 days later, one 120 days
    # later (outside the 90-day window), 4 never
    for i, lag in enumerate([30, 30, 60, 60, 90, 120, None, None, None, None]):
        who = person(session, f"A buyer{i}")
        _buy(session, who, 0, "A")
        if lag is not None:
            _buy(session, who, lag, "B")
        people[f"a{i}"] = who
    # 2 bought B 10 days before A: no anchors for A -> B (they have B already)
    for i in range(2):
        who = person(session, f"B first{i}")
        _buy(session, who, -10, "B")
        _buy(session, who, 0, "A")
    # 1 bought A and B in the same order: a basket, not a sequence
    _buy(session, person(session, "Same day"), 0, "A", "B")
    # 10 buyers of C, one of whom buys B 45 days later; 5 buyers of D, nothing after
    for i in range(10):
        who = person(session, f"C buyer{i}")
        _buy(session, who, 0, "C")
        if i == 0:
            _buy(session, who, 45, "B")
    for i in range(5):
        _buy(session, person(session, f"D buyer{i}"), 0, "D")
    # A recent buyer of A (20 days ago): cannot be followed for 90 days, so not counted,
    # but the one to recommend to
    recent = person(session, "Rita Recent")
    _buy(session, recent, 0, "A", start=(AS_OF - timedelta(days=20)).replace(hour=10))
    people["recent"] = recent
    return people


def test_rules_by_hand(session):
    # Given the constructed purchases
    build(session)

    # When the rules are mined (90-day window, at least 3 customers)
    rules, buyers = nba.mine(
        session.connection(), as_of=AS_OF, window_days=WINDOW, min_support=3, level="category"
    )

    # Then only A -> B has support >= 3, with (by hand):
    #   anchors: 13 followable first purchases of A, minus 3 who had B by then = 10
    #   support_count: lags 30, 30, 60, 60, 90 within 90 days = 5 (the 120 is outside)
    #   buyers with a followable anchor: 10 + 2 + 1 + 10 + 5 = 28 (not the recent one)
    #   base rate of B after any other item: hits (5 after A, 1 after C, 0 after D) over
    #   anchors (13 A - 3 with B + 10 C + 5 D) = 6 / 25 = 0.24
    #   lags: numpy percentiles of [30, 30, 60, 60, 90] = 30, 60, 60
    assert buyers == 28
    assert rules[["antecedent", "consequent"]].values.tolist() == [["A", "B"]]
    rule = rules.iloc[0]
    assert (rule["anchors"], rule["support_count"]) == (10, 5)
    np.testing.assert_allclose(rule["support"], 5 / 28, rtol=1e-12)
    np.testing.assert_allclose(rule["confidence"], 0.5, rtol=1e-12)
    np.testing.assert_allclose(rule["base_rate"], 6 / 25, rtol=1e-12)
    np.testing.assert_allclose(rule["lift"], 0.5 / 0.24, rtol=1e-12)
    assert (rule["lag_p25_days"], rule["median_lag_days"], rule["lag_p75_days"]) == (30, 60, 60)

    # With min_support 1 the weaker sequences appear too, e.g. C -> B: 1 of 10 C buyers
    # bought B, 45 days later
    everything, _ = nba.mine(
        session.connection(), as_of=AS_OF, window_days=WINDOW, min_support=1, level="category"
    )
    c_to_b = everything[(everything["antecedent"] == "C") & (everything["consequent"] == "B")]
    assert c_to_b[["anchors", "support_count"]].values.tolist() == [[10, 1]]
    assert c_to_b["median_lag_days"].tolist() == [45]


def test_rules_from_counts_is_the_same_arithmetic_on_a_frame():
    # The pure half: lags (0 = had it before, 91 = after the window) and anchors
    lags = pd.DataFrame(
        [("A", "B", 0, 3), ("A", "B", 30, 2), ("A", "B", 60, 2), ("A", "B", 90, 1),
         ("A", "B", 91, 1), ("C", "B", 45, 1)],
        columns=["antecedent", "consequent", "lag", "persons"],
    )  # fmt: skip
    anchors = pd.Series({"A": 13, "B": 10, "C": 10, "D": 5})
    rules = nba.rules_from_counts(lags, anchors, 28, window_days=90, min_support=3)
    assert rules.loc[0, ["anchors", "support_count"]].tolist() == [10, 5]
    np.testing.assert_allclose(rules.loc[0, "lift"], 0.5 / (6 / 25))
    assert nba.rules_from_counts(lags.iloc[:0], anchors, 28, window_days=90, min_support=3).empty


def test_recommendation_what_and_when(session):
    people = build(session)
    record_nba_rules(session=session, as_of=AS_OF, window_days=WINDOW, min_support=3)

    # A recent buyer of A: offer B at their purchase + the median lag (60 days)
    offer = next_best_action(session, people["recent"], as_of=AS_OF)
    [first] = offer["offers"]
    bought = (AS_OF - timedelta(days=20)).date()
    assert first["offer"] == "B" and first["because_bought"] == "A"
    assert first["bought_on"] == bought
    assert first["offer_on"] == bought + timedelta(days=60)
    assert first["due_now"] is False
    assert first["text"] == (
        "buyers of A buy B within 90 days in 50% of cases (lift 2.08, 5 customers), "
        "median lag 60 days"
    )
    # An old buyer of A without B: the lag has passed, so the offer is due now
    late = next_best_action(session, people["a6"], as_of=AS_OF)["offers"][0]
    assert late["offer_on"] == AS_OF.date() and late["due_now"] is True
    # Someone who has B already gets no B; the popularity fallback lists what they lack
    has_b = next_best_action(session, people["a0"], as_of=AS_OF)
    assert has_b["offers"] == []
    assert "B" not in has_b["popular"] and "A" not in has_b["popular"]
    # SKU-level rules exist where support allows (here SKUs mirror the categories)
    skus = nba_rules(session, level="sku")["items"]
    assert [(r["antecedent"], r["consequent"]) for r in skus] == [("SKU-A", "SKU-B")]


def test_templates_can_call_next_best_action(session):
    people = build(session)
    record_nba_rules(session=session, as_of=AS_OF, window_days=WINDOW, min_support=3)
    env = jinja2.Environment(autoescape=True)
    env.globals.update(template_functions(session, as_of=AS_OF))
    template = env.from_string(
        "{% set nba = next_best_action(person_id) %}"
        "{% for o in nba.offers %}"
        "Try {{ o.offer }}, since you liked {{ o.because_bought }}."
        "{% endfor %}"
    )
    assert template.render(person_id=people["recent"]) == "Try B, since you liked A."


def test_mining_refuses_nonsense(session):
    from tenure.errors import InvalidInput

    with pytest.raises(InvalidInput):
        record_nba_rules(session=session, as_of=AS_OF, window_days=0)
