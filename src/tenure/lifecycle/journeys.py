"""The journey map: common paths of key moments between stages, and friction points.

Paths: each person's first visit, first order, first ticket, first survey answer and
stage changes, in time order (a moment before the stage change it caused when they share
a timestamp), cut to the first ``MAX_STEPS``. ``row_number()`` numbers them per person,
the steps are pivoted into columns and the paths counted with ``GROUP BY``, all in SQL.

Friction points: per stage, the people who dropped out of it (a move into a later stage
outside the funnel: At risk, Lapsed) and, for funnel stages short of the last, those who
stalled (still in it after ``stall_days``), ranked by people lost. Each friction point
lists the events that precede its drops: the rate of each event type in the 30 days
before the drop (events per dropping person) against the base rate of that type in the
population (events per person per 30 days observed since their first stage), and the
ratio of the two: the lift. A lift of 3 for ``ticket_opened`` before a lapse reads:
"people who lapse opened tickets three times as often as usual in the month before".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from tenure.db.dialect import days_before, days_between, moment
from tenure.lifecycle.models import STAGE_CHANGED, LifecycleStage, PersonStage, StageHistory
from tenure.lifecycle.queries import Population, stage_model
from tenure.timeline.models import Event
from tenure.workspace import clock

KEY_MOMENTS = {
    "visit": "First visit",
    "order": "First order",
    "ticket_opened": "First ticket",
    "survey_answered": "First survey answer",
}
MAX_STEPS = 8
TOP_PATHS = 15
PRE_DROP_DAYS = 30
#: Fewer pre-drop events than this make a lift too noisy to show.
MIN_SUPPORT = 3
TOP_PRECEDING = 5
DEFAULT_STALL_DAYS = 90


def common_paths(
    session: Session, population: Population | None = None, *, limit: int = TOP_PATHS
) -> dict[str, Any]:
    """The most common paths, each a list of steps with the number of people on it."""
    population = population or Population()
    e, h = Event.__table__.c, StageHistory.__table__.c
    moment_query = (
        select(
            e.person_id,
            func.min(e.occurred_at).label("at"),
            (literal("m:") + e.type).label("step"),
            literal(0).label("tiebreak"),
        )
        .where(e.type.in_(list(KEY_MOMENTS)))
        .group_by(e.person_id, e.type)
    )
    stage_query = select(
        h.person_id,
        h.changed_at.label("at"),
        (literal("s:") + cast(h.to_stage_id, String)).label("step"),
        literal(1).label("tiebreak"),
    )
    moments = population.restrict(moment_query, e.person_id, session)
    stages = population.restrict(stage_query, h.person_id, session)
    steps = union_all(moments, stages).subquery("steps")
    numbered = select(
        steps.c.person_id,
        steps.c.step,
        func.row_number()
        .over(partition_by=steps.c.person_id, order_by=(steps.c.at, steps.c.tiebreak))
        .label("n"),
    ).subquery("numbered")
    pivot = [
        func.max(case((numbered.c.n == i, numbered.c.step))).label(f"s{i}")
        for i in range(1, MAX_STEPS + 1)
    ]
    per_person = (
        select(*pivot)
        .where(numbered.c.n <= MAX_STEPS)
        .group_by(numbered.c.person_id)
        .subquery("paths")
    )
    columns = [per_person.c[f"s{i}"] for i in range(1, MAX_STEPS + 1)]
    query = (
        select(*columns, func.count().label("people"))
        .group_by(*columns)
        .order_by(func.count().desc(), *columns)
        .limit(limit)
    )
    rows = session.execute(query).all()
    names = {str(s.id): s for s in stage_model(session).stages}
    total = int(session.scalar(select(func.count()).select_from(per_person)) or 0)
    paths = []
    for row in rows:
        labels = [_label(step, names) for step in row[:MAX_STEPS] if step is not None]
        paths.append({"steps": labels, "people": int(row.people)})
    return {"people": total, "paths": paths, "max_steps": MAX_STEPS}


def _label(step: str, stages: dict[str, LifecycleStage]) -> dict[str, str]:
    kind, _, value = step.partition(":")
    if kind == "m":
        return {"kind": "moment", "key": value, "name": KEY_MOMENTS.get(value, value)}
    stage = stages.get(value)
    return {
        "kind": "stage",
        "key": stage.key if stage else value,
        "name": stage.name if stage else value,
    }


def friction_points(
    session: Session,
    population: Population | None = None,
    *,
    as_of: datetime | None = None,
    stall_days: int = DEFAULT_STALL_DAYS,
) -> dict[str, Any]:
    """Stages ranked by people lost (dropped + stalled), with the events before drops."""
    population = population or Population()
    as_of = as_of or clock.now(session)
    model = stage_model(session)
    stages = model.by_id
    funnel = [s for s in model.stages if s.in_funnel]
    last_funnel = funnel[-1].id if funnel else None
    h = StageHistory
    source, target = aliased(LifecycleStage), aliased(LifecycleStage)
    is_drop = and_(target.in_funnel.is_(False), target.position > source.position)
    moves_query = (
        select(
            h.from_stage_id,
            func.sum(case((is_drop, 1), else_=0)).label("dropped"),
        )
        .join(source, source.id == h.from_stage_id)
        .join(target, target.id == h.to_stage_id)
        .where(h.changed_at <= as_of)
        .group_by(h.from_stage_id)
    )
    dropped = {
        r.from_stage_id: int(r.dropped)
        for r in session.execute(population.restrict(moves_query, h.person_id, session))
    }
    entrants_query = (
        select(h.to_stage_id, func.count(h.person_id.distinct()))
        .where(h.changed_at <= as_of)
        .group_by(h.to_stage_id)
    )
    entrants = dict(
        session.execute(population.restrict(entrants_query, h.person_id, session)).all()
    )
    stalled_query = (
        select(PersonStage.stage_id, func.count())
        .where(PersonStage.entered_at <= as_of - timedelta(days=stall_days))
        .group_by(PersonStage.stage_id)
    )
    stalled = dict(
        session.execute(population.restrict(stalled_query, PersonStage.person_id, session)).all()
    )
    preceding = _preceding_events(session, population, as_of)
    points: list[dict[str, Any]] = []
    for stage in model.stages:
        entered = int(entrants.get(stage.id, 0))
        drops = dropped.get(stage.id, 0)
        can_stall = stage.in_funnel and stage.id != last_funnel
        stalls = int(stalled.get(stage.id, 0)) if can_stall else 0
        if not entered or not (drops or stalls):
            continue
        points.append(
            {
                "stage": stage.key,
                "name": stage.name,
                "entered": entered,
                "dropped": drops,
                "stalled": stalls,
                "lost": drops + stalls,
                "lost_share": (drops + stalls) / entered,
                "preceding_events": preceding.get(stage.id, []),
            }
        )
    points.sort(key=lambda p: (-p["lost"], -p["lost_share"], p["stage"]))
    for rank, point in enumerate(points, start=1):
        point["rank"] = rank
    return {
        "as_of": as_of,
        "stall_days": stall_days,
        "window_days": PRE_DROP_DAYS,
        "points": points,
        "stages": {s.key: s.name for s in stages.values()},
    }


def _preceding_events(
    session: Session, population: Population, as_of: datetime
) -> dict[int, list[dict[str, Any]]]:
    """Per stage dropped from: event types before the drops, by lift over the base rate."""
    dialect = session.connection().dialect.name
    h, e = StageHistory, Event
    source, target = aliased(LifecycleStage), aliased(LifecycleStage)
    drops_query = (
        select(h.person_id, h.from_stage_id, h.changed_at)
        .join(source, source.id == h.from_stage_id)
        .join(target, target.id == h.to_stage_id)
        .where(
            target.in_funnel.is_(False),
            target.position > source.position,
            h.changed_at <= as_of,
        )
    )
    drops = population.restrict(drops_query, h.person_id, session).subquery("drops")
    drop_counts: dict[int, int] = dict(
        session.execute(
            select(drops.c.from_stage_id, func.count()).group_by(drops.c.from_stage_id)
        ).all()
    )
    if not drop_counts:
        return {}
    window_start = days_before(dialect, drops.c.changed_at, PRE_DROP_DAYS)
    before = session.execute(
        select(drops.c.from_stage_id, e.type, func.count())
        .join(
            e,
            and_(
                e.person_id == drops.c.person_id,
                e.occurred_at <= drops.c.changed_at,
                e.occurred_at > window_start,
            ),
        )
        .where(e.type != STAGE_CHANGED)
        .group_by(drops.c.from_stage_id, e.type)
    ).all()
    base = _base_rates(session, population, as_of)
    out: dict[int, list[dict[str, Any]]] = {}
    for stage_id, kind, count in before:
        people = drop_counts[stage_id]
        rate = count / people
        base_rate = base.get(kind)
        if count < MIN_SUPPORT or not base_rate:
            continue
        out.setdefault(stage_id, []).append(
            {
                "type": kind,
                "events": int(count),
                "rate_before": rate,
                "base_rate": base_rate,
                "lift": rate / base_rate,
            }
        )
    for items in out.values():
        items.sort(key=lambda item: (-item["lift"], item["type"]))
        del items[TOP_PRECEDING:]
    return out


def _base_rates(session: Session, population: Population, as_of: datetime) -> dict[str, float]:
    """Events of each type per person per 30 days, counted from each person's first stage."""
    dialect = session.connection().dialect.name
    h, e = StageHistory, Event
    first_query = select(h.person_id, func.min(h.changed_at).label("first_at")).group_by(
        h.person_id
    )
    first = population.restrict(first_query, h.person_id, session).subquery("first")
    exposure_days = session.scalar(
        select(func.sum(days_between(dialect, moment(dialect, as_of), first.c.first_at))).where(
            first.c.first_at <= as_of
        )
    )
    if not exposure_days or exposure_days <= 0:
        return {}
    rows = session.execute(
        select(e.type, func.count())
        .join(first, first.c.person_id == e.person_id)
        .where(
            e.type != STAGE_CHANGED,
            e.occurred_at >= first.c.first_at,
            e.occurred_at <= as_of,
        )
        .group_by(e.type)
    ).all()
    periods = float(exposure_days) / PRE_DROP_DAYS
    return {kind: count / periods for kind, count in rows}
