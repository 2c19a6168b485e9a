"""Journey map: common paths of key moments, and friction points ranked with their lifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from tenure.lifecycle.actions import evaluate_people, set_stage_override
from tenure.lifecycle.journeys import common_paths, friction_points

from .helpers import event, order, person, store

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def _at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_common_paths_follow_moments_and_stages(session):
    # Three people visit, become Leads, order and become New customers; one orders at once.
    visitors = [person(session, f"v{i}") for i in range(3)]
    direct = person(session, "direct")
    store(session, [event(p, "visit", _at(0)) for p in visitors])
    evaluate_people(session=session, person_ids=visitors, as_of=_at(0.5))
    store(session, [order(p, _at(3)) for p in [*visitors, direct]])
    evaluate_people(session=session, person_ids=[*visitors, direct], as_of=_at(3.5))

    result = common_paths(session)

    assert result["people"] == 4
    top, second = result["paths"][:2]
    assert [s["name"] for s in top["steps"]] == [
        "First visit",
        "Lead",
        "First order",
        "New customer",
    ]
    assert top["people"] == 3
    assert [s["name"] for s in second["steps"]] == ["First order", "New customer"]
    assert second["people"] == 1


def test_friction_ranks_stages_by_people_lost_with_lifts(session):
    # Ten Active customers from T0, who all visit every 10 days (T0 .. T0+90). Four open
    # two tickets each around T0+45..50 and drop to At risk at T0+60. Three Leads stall.
    active = [person(session, f"a{i}") for i in range(10)]
    leads = [person(session, f"l{i}") for i in range(3)]
    for p in active:
        set_stage_override(
            session=session, person_id=p, stage="active", reason="t", actor_id=None, at=_at(0)
        )
    for p in leads:
        set_stage_override(
            session=session, person_id=p, stage="lead", reason="t", actor_id=None, at=_at(0)
        )
    droppers = active[:4]
    events = [event(p, "visit", _at(10 * k)) for p in active + leads for k in range(10)]
    events += [event(p, "ticket_opened", _at(day)) for p in droppers for day in (45, 50)]
    store(session, events)
    for p in droppers:
        set_stage_override(
            session=session, person_id=p, stage="at_risk", reason="t", actor_id=None, at=_at(60)
        )

    result = friction_points(session, as_of=_at(90), stall_days=60)

    ranked = [(p["stage"], p["entered"], p["dropped"], p["stalled"]) for p in result["points"]]
    assert ranked == [("active", 10, 4, 6), ("lead", 3, 0, 3)]
    first = result["points"][0]
    assert first["rank"] == 1 and first["lost_share"] == 1.0
    # Before the drops: 8 tickets for 4 people (2.0 each) and 3 visits each (T0+40, 50, 60).
    # Base rates per person per 30 days, from 13 people observed 90 days (39 periods):
    # tickets 8 / 39, visits 130 / 39.
    lifts = {e["type"]: e for e in first["preceding_events"]}
    assert list(lifts) == ["ticket_opened", "visit"]  # ranked by lift
    np.testing.assert_allclose(lifts["ticket_opened"]["rate_before"], 2.0, rtol=1e-9)
    np.testing.assert_allclose(lifts["ticket_opened"]["base_rate"], 8 / 39, rtol=1e-6)
    np.testing.assert_allclose(lifts["ticket_opened"]["lift"], 2.0 / (8 / 39), rtol=1e-6)
    np.testing.assert_allclose(lifts["visit"]["lift"], 3.0 / (130 / 39), rtol=1e-6)
    assert result["points"][1]["preceding_events"] == []
