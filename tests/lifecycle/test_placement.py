"""Batch placement after a scores refresh: only the people whose inputs changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tenure.customers.models import Person
from tenure.db.types import utcnow
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.lifecycle.models import LifecycleRule, StagePlacement
from tenure.scores.models import PersonScore
from tests.score_refreshes import refresh_id

from .helpers import AS_OF, days_ago, event, order, person, score, stage_of, store


def _workspace(session) -> dict[str, int]:
    p = {name: person(session, name) for name in ("scored", "visitor", "edited", "quiet")}
    store(
        session,
        [
            *[order(p["scored"], days_ago(5 + 30 * k)) for k in range(3)],
            event(p["visitor"], "visit", days_ago(10)),
            order(p["edited"], days_ago(20)),
            order(p["quiet"], days_ago(25)),
        ],
    )
    fitted = utcnow() - timedelta(hours=1)
    refresh = refresh_id(session, as_of=fitted, version="1.earlier")
    for name in ("scored", "edited", "quiet"):
        score(session, p[name], refresh_id=refresh)
    return p


def test_a_second_placement_places_only_the_people_whose_inputs_changed(session, session_factory):
    # Given everyone placed once
    p = _workspace(session)
    session.commit()
    first = evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, full=False)
    assert first.full and first.people == 4
    assert sorted(first.changed_person_ids) == sorted(p.values())
    assert stage_of(session, p["scored"]) == "active"

    # When nothing changed, the next placement at the same time places no one
    again = evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, full=False)
    assert (again.full, again.people, again.changes) == (False, 0, 0)

    # When a refresh changes one score row, an event arrives (stored without the
    # pipeline's reaction) and a person is edited
    later = refresh_id(session, as_of=utcnow(), version="1.later")
    session.execute(
        update(PersonScore)
        .where(PersonScore.person_id == p["scored"])
        .values(churn_probability=0.9, refresh_id=later)
    )
    store(session, [order(p["visitor"], days_ago(1))])
    session.execute(update(Person).where(Person.id == p["edited"]).values(updated_at=utcnow()))
    session.commit()
    third = evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, full=False)

    # Then exactly those three are placed again, and the changes are named
    assert (third.full, third.people) == (False, 3)
    assert sorted(third.changed_person_ids) == sorted([p["scored"], p["visitor"]])
    session.expire_all()
    assert stage_of(session, p["scored"]) == "at_risk"
    assert stage_of(session, p["visitor"]) == "new_customer"
    placements = session.scalars(select(StagePlacement).order_by(StagePlacement.id)).all()
    assert [(r.full, r.people, r.changes) for r in placements] == [
        (True, 4, 4),
        (False, 0, 0),
        (False, 3, 2),
    ]


def test_another_time_other_rules_or_full_place_everyone(session, session_factory):
    p = _workspace(session)
    session.commit()
    evaluate_all_stages(session_factory=session_factory, as_of=AS_OF, full=False)

    # the clock moved: days since the last order count against the new time
    later = evaluate_all_stages(
        session_factory=session_factory, as_of=AS_OF + timedelta(days=400), full=False
    )
    assert later.full and later.people == 4
    assert stage_of(session, p["quiet"]) == "lapsed"

    # the rules changed
    rule = session.scalars(select(LifecycleRule).order_by(LifecycleRule.priority)).first()
    assert rule is not None
    rule.enabled = False
    session.commit()
    other_rules = evaluate_all_stages(
        session_factory=session_factory, as_of=AS_OF + timedelta(days=400), full=False
    )
    assert other_rules.full and other_rules.people == 4

    # asked for
    asked = evaluate_all_stages(
        session_factory=session_factory, as_of=AS_OF + timedelta(days=400), full=True
    )
    assert asked.full and asked.people == 4 and asked.changes == 0
