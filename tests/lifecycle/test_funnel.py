"""Funnel conversion and Kaplan-Meier time in stage on hand-made histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from tenure.lifecycle.actions import set_stage_override
from tenure.lifecycle.funnel import funnel, time_in_stage
from tenure.lifecycle.queries import Population

from .helpers import person

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _path(session, name: str, steps: list[tuple[str, float]], tags=None) -> int:
    """A person moved by hand through ``steps`` (stage, days after T0)."""
    person_id = person(session, name, tags=tags)
    for stage, day in steps:
        set_stage_override(
            session=session,
            person_id=person_id,
            stage=stage,
            reason="test",
            actor_id=None,
            at=T0 + timedelta(days=day),
        )
    return person_id


def test_kaplan_meier_censors_open_spells(session):
    # Five Lead spells as of T0 + 10 days: closed after 2, 4 and 5 days, still open after
    # 3 and 6 days. Product-limit estimate (Kaplan & Meier 1958), by hand:
    #   t=2: 5 at risk, 1 leaves -> S = 4/5             = 0.8
    #   t=3: censored (4 -> 3 at risk)
    #   t=4: 3 at risk, 1 leaves -> S = 0.8 * 2/3       = 0.5333
    #   t=5: 2 at risk, 1 leaves -> S = 0.5333 * 1/2    = 0.2667
    #   t=6: censored; the median is the first t with S <= 0.5: 5 days.
    as_of = T0 + timedelta(days=10)
    for i, days in enumerate((2, 4, 5)):
        _path(session, f"closed{i}", [("lead", 0), ("new_customer", days)])
    for i, days in enumerate((3, 6)):
        _path(session, f"open{i}", [("lead", 10 - days)])

    result = time_in_stage(session, as_of=as_of, stage="lead")

    (curve,) = result["curves"]
    assert curve["stage"] == "lead" and curve["spells"] == 5 and curve["open"] == 2
    assert curve["median_days"] == 5.0
    points = {p["days"]: p["survival"] for p in curve["curve"]}
    np.testing.assert_allclose(
        [points[2.0], points[3.0], points[4.0], points[5.0], points[6.0]],
        [0.8, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2, 0.8 * 2 / 3 / 2],
        rtol=1e-9,
    )
    # Survival at 30 days stays at the last estimate (the largest spell is censored).
    np.testing.assert_allclose(curve["still_in_stage"]["30"], 0.8 * 2 / 3 / 2, rtol=1e-9)
    # The three who moved on are still New customers: all censored, median not reached.
    newer = time_in_stage(session, as_of=as_of, stage="new_customer")["curves"][0]
    assert newer["spells"] == 3 and newer["open"] == 3 and newer["median_days"] is None


def test_time_in_stage_by_cohort(session):
    # March cohort leaves Lead after 4 days; April cohort after 10.
    _path(session, "mar", [("lead", 0), ("active", 4)])
    _path(session, "apr", [("lead", 31), ("active", 41)])
    result = time_in_stage(session, as_of=T0 + timedelta(days=60), stage="lead", by_cohort=True)
    medians = {c["cohort"]: c["median_days"] for c in result["curves"]}
    assert medians == {"2025-03": 4.0, "2025-04": 10.0}


def test_conversion_counts_people_who_reached_a_stage_or_beyond(session):
    # A goes all the way to Active; B stops at Lead; C skips Lead; D drops to At risk.
    _path(session, "A", [("prospect", 0), ("lead", 1), ("new_customer", 2), ("active", 3)])
    _path(session, "B", [("prospect", 0), ("lead", 1)])
    _path(session, "C", [("prospect", 0), ("new_customer", 2)], tags=["wholesale"])
    _path(session, "D", [("lead", 35), ("at_risk", 40)], tags=["wholesale"])

    result = funnel(session)

    reached = {s["stage"]: (s["reached"], s["to_next"]) for s in result["overall"]}
    assert reached["prospect"] == (4, 1.0)
    assert reached["lead"] == (4, 0.5)
    assert reached["new_customer"] == (2, 0.5)
    assert reached["active"] == (1, 0.0)
    assert reached["advocate"] == (0, None)
    drops = [(t["from"], t["to"], t["people"]) for t in result["transitions"] if t["drop"]]
    assert drops == [("lead", "at_risk", 1)]
    current = {s["stage"]: s["people"] for s in result["current"]}
    assert current["active"] == 1 and current["at_risk"] == 1 and current["lead"] == 1

    # By cohort (month of the first stage) and for one tag
    by_cohort = funnel(session, by_cohort=True)
    cohorts = {c["cohort"]: c["steps"][0]["reached"] for c in by_cohort["cohorts"]}
    assert cohorts == {"2025-03": 3, "2025-04": 1}
    tagged = funnel(session, Population(tag="wholesale"))
    assert [s["reached"] for s in tagged["overall"][:3]] == [2, 2, 1]
    chosen = funnel(session, Population(person_ids=(person(session, "nobody"),)))
    assert chosen["overall"][0]["reached"] == 0
