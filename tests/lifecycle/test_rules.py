"""The condition language in SQL: attributes, events leaves, missing values, percentiles."""

from __future__ import annotations

from tenure.customers.models import Person
from tenure.lifecycle.actions import evaluate_people
from tenure.lifecycle.configure import create_rule, create_stage
from tenure.lifecycle.schemas import RuleIn, StageIn

from .helpers import AS_OF, days_ago, event, person, score, stage_of, store


def _hit_when(session, condition: dict) -> None:
    """A first-priority rule sending matching people to a 'hit' stage."""
    create_stage(session=session, data=StageIn(key="hit", name="Hit"), actor=None)
    create_rule(
        session=session,
        data=RuleIn(stage="hit", name="test", priority=0, condition=condition),
        actor=None,
    )


def _hits(session, people: dict[str, int]) -> set[str]:
    evaluate_people(session=session, person_ids=list(people.values()), as_of=AS_OF)
    return {name for name, pid in people.items() if stage_of(session, pid) == "hit"}


def _with_attributes(session, **people: dict) -> dict[str, int]:
    ids = {}
    for name, attributes in people.items():
        ids[name] = person(session, name)
        session.get(Person, ids[name]).attributes = attributes
    session.flush()
    return ids


def test_attributes_compare_by_json_type(session):
    people = _with_attributes(
        session,
        seats_12={"seats": 12},
        seats_text={"seats": "12"},
        seats_3={"seats": 3},
        none={},
    )
    _hit_when(session, {"attribute": "seats", "op": ">=", "value": 10})
    assert _hits(session, people) == {"seats_12"}


def test_booleans_strings_and_presence(session):
    people = _with_attributes(
        session,
        partner={"partner": True, "region": "EU"},
        not_partner={"partner": False, "region": "EU"},
        text_true={"partner": "true", "region": "US"},
        null_region={"partner": True, "region": None},
    )
    _hit_when(
        session,
        {
            "all": [
                {"attribute": "partner", "op": "=", "value": True},
                {"attribute": "region", "op": "set"},
                {"attribute": "region", "op": "!=", "value": "US"},
            ]
        },
    )
    assert _hits(session, people) == {"partner"}


def test_not_of_a_missing_value_holds(session):
    # Unscored people have no P(alive): "p_alive < 0.5" is false, so its negation holds.
    scored_low, scored_high, unscored = (person(session, n) for n in ("low", "high", "none"))
    score(session, scored_low, p_alive=0.2)
    score(session, scored_high, p_alive=0.9)
    _hit_when(session, {"not": {"metric": "score.p_alive", "op": "<", "value": 0.5}})
    hits = _hits(session, {"low": scored_low, "high": scored_high, "none": unscored})
    assert hits == {"high", "none"}


def test_events_leaf_counts_type_window_and_channel(session):
    people = {name: person(session, name) for name in ("two_recent", "one_recent", "old", "phone")}
    store(
        session,
        [
            event(people["two_recent"], "ticket_opened", days_ago(5), channel="email"),
            event(people["two_recent"], "ticket_opened", days_ago(20), channel="email"),
            event(people["one_recent"], "ticket_opened", days_ago(5), channel="email"),
            event(people["one_recent"], "ticket_opened", days_ago(50), channel="email"),
            event(people["old"], "ticket_opened", days_ago(40), channel="email"),
            event(people["old"], "ticket_opened", days_ago(45), channel="email"),
            event(people["phone"], "ticket_opened", days_ago(5), channel="phone"),
            event(people["phone"], "ticket_opened", days_ago(6), channel="phone"),
        ],
    )
    window = {"type": "ticket_opened", "within_days": 30, "channel": "email"}
    _hit_when(session, {"events": window, "op": ">=", "value": 2})
    assert _hits(session, people) == {"two_recent"}


def test_rfm_segment_in_and_clv_percentile(session):
    # Ten scored customers with CLV 100..1000: the top 20% (percent rank >= 0.8) are the
    # customers at 900 and 1000 (ranks 8/9 and 9/9); 800 has rank 7/9 = 0.78.
    ids = {}
    for i in range(1, 11):
        ids[f"c{i}"] = person(session, f"c{i}")
        segment = "Champions" if i % 2 else "Hibernating"
        score(session, ids[f"c{i}"], clv_12m_minor=100 * i, rfm_segment=segment)
    _hit_when(
        session,
        {
            "any": [
                {"metric": "score.clv_percentile", "op": ">=", "value": 0.8},
                {
                    "all": [
                        {"metric": "score.rfm_segment", "op": "in", "value": ["Hibernating"]},
                        {"metric": "score.clv_percentile", "op": "<", "value": 0.2},
                    ]
                },
            ]
        },
    )
    # c2 (200, rank 1/9 = 0.11) is the only Hibernating customer under the 0.2 rank.
    assert _hits(session, ids) == {"c9", "c10", "c2"}
