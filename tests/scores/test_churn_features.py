"""The churn model's training data never sees the future it is asked to predict."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import orjson
import pandas as pd

from tenure.scores.churn import (
    MIN_CLASS_ROWS,
    features_at,
    fit,
    labels_at_cutoff,
    reasons_json,
    stored_reason,
    training_sample,
)
from tenure.scores.features import Moments, aggregate_events
from tenure.scores.sql import from_day_number

from .workspace import AS_OF, add_events, add_people, event, generate


def _training(connection, moments):
    aggregates = aggregate_events(connection, moments, churn_event_type=None)
    features = features_at(aggregates, "cut", churn_event_type=None, attributes=pd.DataFrame())
    population, churned = labels_at_cutoff(aggregates, features, churn_event_type=None)
    return features.loc[population], churned


def test_features_at_the_cutoff_ignore_everything_after_it(session):
    # Given a workspace and the training data of a refresh as of AS_OF
    connection = session.connection()
    ids = generate(connection, customers=120)
    moments = Moments.build(AS_OF, horizon_days=180)
    before, labels_before = _training(connection, moments)

    # When orders, visits and new customers are added after the cutoff
    cutoff = from_day_number(moments.cutoff_day)
    after = AS_OF.replace(year=cutoff.year, month=cutoff.month, day=cutoff.day) + timedelta(
        days=1, hours=1
    )
    (newcomer,) = add_people(connection, 1, prefix="late")
    add_events(
        connection,
        [event(p, after + timedelta(days=i % 90), amount=50_000) for i, p in enumerate(ids)]
        + [event(p, after + timedelta(days=3), "visit") for p in ids]
        + [event(newcomer, after, amount=1_000)],
    )
    later, labels_later = _training(connection, moments)

    # Then the features are identical: a leak of post-cutoff events would change them
    pd.testing.assert_frame_equal(before, later)
    assert newcomer not in later.index
    # while the labels, which are read after the cutoff, do see the new orders
    assert labels_before.sum() > 0
    assert labels_later.sum() == 0


def test_features_now_are_the_same_computation_at_as_of(session):
    connection = session.connection()
    (person,) = add_people(connection, 1)
    add_events(
        connection,
        [
            event(person, AS_OF - timedelta(days=300), amount=2_000),
            event(person, AS_OF - timedelta(days=200), amount=3_000),
            event(person, AS_OF - timedelta(days=10), amount=7_000),
            event(person, AS_OF - timedelta(days=5), "visit"),
            event(person, AS_OF - timedelta(days=210), "ticket_opened"),
        ],
    )
    moments = Moments.build(AS_OF, horizon_days=180)
    aggregates = aggregate_events(connection, moments, churn_event_type=None)
    now = features_at(aggregates, "asof", churn_event_type=None, attributes=pd.DataFrame())
    cut = features_at(aggregates, "cut", churn_event_type=None, attributes=pd.DataFrame())
    assert now.loc[person, "frequency"] == 2 and cut.loc[person, "frequency"] == 1
    assert now.loc[person, "recency_days"] == 10
    assert cut.loc[person, "recency_days"] == 200 - 180
    assert now.loc[person, "engagement_90d"] == 1  # the visit; the ticket is older
    assert cut.loc[person, "engagement_90d"] == 1  # the ticket, 30 days before the cutoff
    assert cut.loc[person, "monetary"] == 30.0  # one repeat day of $30 by the cutoff


def test_the_training_sample_is_bounded_stratified_and_repeatable():
    # Given 10,000 outcomes, 7% churners
    churned = pd.Series(np.arange(10_000) % 100 < 7, index=np.arange(10_000) * 3)

    # When 1,000 rows are sampled, twice
    pick = training_sample(churned, 1_000)

    # Then each class keeps its share, in the original order, the same each time
    assert len(pick) == len(set(pick)) == 1_000
    assert int(churned.iloc[pick].sum()) == 70
    assert list(pick) == sorted(pick)
    assert list(training_sample(churned, 1_000)) == list(pick)
    # and a population within the bound is taken whole
    assert list(training_sample(churned, 10_000)) == list(range(10_000))
    # and a rare class keeps at least MIN_CLASS_ROWS rows where it has them
    rare = pd.Series(np.arange(10_000) < 12)
    assert int(rare.iloc[training_sample(rare, 500)].sum()) == MIN_CLASS_ROWS


def test_the_churn_model_trains_on_the_bound_and_scores_everyone(session):
    # Given a workspace whose active customers at the cutoff outnumber the bound
    connection = session.connection()
    generate(connection, customers=400)
    moments = Moments.build(AS_OF, horizon_days=180)
    aggregates = aggregate_events(connection, moments, churn_event_type=None)
    _, churned = _training(connection, moments)
    assert len(churned) > 150

    # When the model is fitted with a bound of 150 training rows
    outcome = fit(aggregates, churn_event_type=None, attributes=pd.DataFrame(), training_rows=150)

    # Then it trained on 150 of them and scores every customer with an order
    assert outcome.skipped is None
    assert outcome.n_training == outcome.report["n_rows"] == 150
    assert outcome.report["training_population"] == len(churned)
    customers = aggregates.orders.index.to_numpy()
    scores = outcome.scores.at(customers)
    assert list(scores.index) == list(customers)
    assert scores["churn_probability"].between(0, 1).all()
    # the already churned with probability 1 and no reasons of their own, the others
    # with three reasons each
    lapsed = scores["churn_reasons"].isna()
    assert lapsed.any() and (scores.loc[lapsed, "churn_probability"] == 1).all()
    assert all(len(orjson.loads(text)) == 3 for text in scores.loc[~lapsed, "churn_reasons"])

    # and asked a block at a time, in another order, it scores each customer the same
    shuffled = np.random.default_rng(3).permutation(customers)
    blocks = pd.concat([outcome.scores.at(part) for part in np.array_split(shuffled, 4)])
    pd.testing.assert_frame_equal(blocks.loc[customers], scores)


def test_reasons_are_one_json_array_per_person_in_rank_order():
    # Given two people's two reasons: numbers, a missing value and awkward text
    explained = pd.DataFrame(
        {
            "row": [7, 7, 9, 9],
            "feature": ["recency_days", "attr_plan", "monetary", 'attr_"odd"'],
            "value": [12.0, 'basic "quoted"\n', np.nan, 1234567.123456],
            "contribution": [0.123456, -0.00004, 1e-5 * 20, -1 / 3],
        }
    )

    # When they are written as JSON text
    reasons = reasons_json(explained, top=2)

    # Then each person has an array of their reasons, numbers rounded to 4 decimals
    assert list(reasons.index) == [7, 9]
    stored = [orjson.loads(text) for text in reasons]
    assert stored == [
        [["recency_days", 12.0, 0.1235], ["attr_plan", 'basic "quoted"\n', -0.0]],
        [["monetary", None, 0.0002], ['attr_"odd"', 1234567.1235, -0.3333]],
    ]
    # and they read back as objects, as do reasons stored as objects by earlier refreshes
    assert [stored_reason(item) for item in stored[1]] == [
        {"feature": "monetary", "value": None, "contribution": 0.0002},
        {"feature": 'attr_"odd"', "value": 1234567.1235, "contribution": -0.3333},
    ]
    earlier = {"feature": "monetary", "value": 3.0, "contribution": 0.1}
    assert stored_reason(earlier) == earlier
