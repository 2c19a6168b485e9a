"""Funnel analytics from the stage history: conversion and time in stage.

Conversion: a person "reached" a funnel stage when they ever entered it or a later funnel
stage (people may skip a step: a first order moves a Prospect straight to New customer);
the conversion of step i is reached(i + 1) / reached(i). Moves into a stage outside the
funnel (At risk, Lapsed) count as drops.

Time in stage: every history row opens a spell in its stage, closed by the person's next
change. Spells still open at ``as_of`` are right-censored, and the survival curve of
"still in the stage after t days" is the Kaplan-Meier estimate (lifelines; Kaplan & Meier
1958). Spells are counted in SQL per (stage, cohort, whole days, closed) and handed to
lifelines as weights, so a million spells cost a few thousand rows.

Cohort: the month (UTC) a person entered their first stage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from tenure.db.dialect import Days, days_between, moment, sqlite_timestamp
from tenure.lifecycle.models import LifecycleStage, StageHistory
from tenure.lifecycle.queries import Population, stage_counts, stage_model
from tenure.workspace import clock

MAX_COHORTS = 24
#: Survival read at these days for the summary table.
CHECKPOINT_DAYS = (30, 90, 180, 365)
#: Points per curve sent to a page; Kaplan-Meier steps are thinned evenly beyond this.
MAX_CURVE_POINTS = 400


def funnel(
    session: Session, population: Population | None = None, *, by_cohort: bool = False
) -> dict[str, Any]:
    """Conversion between funnel stages, transitions and current counts."""
    population = population or Population()
    model = stage_model(session)
    steps = [s for s in model.stages if s.in_funnel]
    position = {s.id: i for i, s in enumerate(steps)}
    first = _first_entries(session, population)
    deepest = (
        select(
            StageHistory.person_id,
            func.max(LifecycleStage.position).label("position"),
        )
        .join(LifecycleStage, LifecycleStage.id == StageHistory.to_stage_id)
        .where(LifecycleStage.in_funnel.is_(True))
        .group_by(StageHistory.person_id)
    )
    deepest_q = population.restrict(deepest, StageHistory.person_id, session).subquery("deepest")
    stage_at = {s.position: s.id for s in steps}
    columns: list[Any] = [deepest_q.c.position, func.count()]
    query = select(*columns).select_from(deepest_q)
    if by_cohort:
        query = query.add_columns(first.c.cohort).join(
            first, first.c.person_id == deepest_q.c.person_id
        )
        query = query.group_by(deepest_q.c.position, first.c.cohort)
    else:
        query = query.group_by(deepest_q.c.position)
    rows = session.execute(query).all()
    totals: dict[str | None, list[int]] = {}
    for row in rows:
        cohort = row[2] if by_cohort else None
        counts = totals.setdefault(cohort, [0] * len(steps))
        index = position.get(stage_at.get(row[0], -1))
        if index is not None:
            counts[index] += int(row[1])
    result: dict[str, Any] = {
        "stages": [{"stage": s.key, "name": s.name} for s in steps],
        "overall": _conversion(steps, _reached(totals.get(None, [0] * len(steps))))
        if not by_cohort
        else None,
        "transitions": _transitions(session, population, model.by_id),
        "current": stage_counts(session, population),
    }
    if by_cohort:
        overall = [sum(c[i] for c in totals.values()) for i in range(len(steps))]
        result["overall"] = _conversion(steps, _reached(overall))
        cohorts = sorted(k for k in totals if k is not None)[-MAX_COHORTS:]
        result["cohorts"] = [
            {"cohort": c, "steps": _conversion(steps, _reached(totals[c]))} for c in cohorts
        ]
    return result


def _reached(deepest_counts: list[int]) -> list[int]:
    """People who reached each step = people whose deepest step is that one or later."""
    return [int(n) for n in np.cumsum(deepest_counts[::-1])[::-1]]


def _conversion(steps: list[LifecycleStage], reached: list[int]) -> list[dict[str, Any]]:
    out = []
    for i, stage in enumerate(steps):
        nxt = reached[i + 1] if i + 1 < len(steps) else None
        out.append(
            {
                "stage": stage.key,
                "name": stage.name,
                "reached": int(reached[i]),
                "to_next": None if nxt is None or not reached[i] else nxt / reached[i],
            }
        )
    return out


def _transitions(
    session: Session, population: Population, stages: dict[int, LifecycleStage]
) -> list[dict[str, Any]]:
    query = select(
        StageHistory.from_stage_id, StageHistory.to_stage_id, func.count().label("n")
    ).group_by(StageHistory.from_stage_id, StageHistory.to_stage_id)
    rows = session.execute(population.restrict(query, StageHistory.person_id, session)).all()
    out = []
    for source, target, n in sorted(rows, key=lambda r: -r.n):
        before = stages[source] if source is not None else None
        after = stages[target]
        out.append(
            {
                "from": before.key if before else None,
                "from_name": before.name if before else "(first stage)",
                "to": after.key,
                "to_name": after.name,
                "people": int(n),
                "drop": bool(before and before.in_funnel and not after.in_funnel),
            }
        )
    return out


def _first_entries(session: Session, population: Population) -> Any:
    days = Days(session.connection().dialect.name)
    first_at = func.min(StageHistory.changed_at)
    query = select(StageHistory.person_id, days.month(first_at).label("cohort")).group_by(
        StageHistory.person_id
    )
    return population.restrict(query, StageHistory.person_id, session).subquery("first_entry")


def spell_counts(
    session: Session, population: Population, as_of: datetime, *, by_cohort: bool
) -> list[Any]:
    """Rows (stage_id, cohort, days, closed, spells) of whole-day spell lengths."""
    dialect = session.connection().dialect.name
    h = StageHistory
    order = (h.changed_at, h.id)
    spells_query = select(
        h.person_id,
        h.to_stage_id.label("stage_id"),
        h.changed_at.label("started"),
        func.lead(h.changed_at).over(partition_by=h.person_id, order_by=order).label("ended"),
        func.min(h.changed_at).over(partition_by=h.person_id).label("first_at"),
    )
    spells = population.restrict(spells_query, h.person_id, session).subquery("spells")
    now = moment(dialect, as_of)
    # lead() is untyped: compare it with what the column holds (ISO text on SQLite).
    as_of_bound = as_of if dialect != "sqlite" else sqlite_timestamp(as_of)
    closed = and_(spells.c.ended.is_not(None), spells.c.ended <= as_of_bound)
    end = case((closed, spells.c.ended), else_=now)
    length = days_between(dialect, end, spells.c.started)
    whole_days = cast(length, Integer) if dialect == "sqlite" else cast(func.floor(length), Integer)
    closed_flag = case((closed, 1), else_=0)
    cohort = Days(dialect).month(spells.c.first_at) if by_cohort else None
    keys: list[Any] = [spells.c.stage_id, whole_days.label("days"), closed_flag.label("closed")]
    if cohort is not None:
        keys.insert(1, cohort.label("cohort"))
    query = (
        select(*keys, func.count().label("spells")).where(spells.c.started <= as_of).group_by(*keys)
    )
    rows = session.execute(query).all()
    if cohort is None:
        return [(r.stage_id, None, int(r.days), int(r.closed), int(r.spells)) for r in rows]
    return [(r.stage_id, r.cohort, int(r.days), int(r.closed), int(r.spells)) for r in rows]


def kaplan_meier(rows: Iterable[tuple[int, int, int]]) -> dict[str, Any] | None:
    """KM estimate from (days, closed, count) rows; None without spells."""
    data = np.array(list(rows), dtype=float).reshape(-1, 3)
    if not len(data) or data[:, 2].sum() == 0:
        return None
    # lifelines takes ~2.5 s to import (measured); only the time-in-stage view needs it.
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter()
    fitter.fit(data[:, 0], event_observed=data[:, 1], weights=data[:, 2])
    survival = fitter.survival_function_.iloc[:, 0]
    bounds = fitter.confidence_interval_survival_function_
    times = survival.index.to_numpy()
    keep = np.arange(len(times))
    if len(times) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(times) - 1, MAX_CURVE_POINTS).round().astype(int))
    median = float(fitter.median_survival_time_)
    return {
        "spells": int(data[:, 2].sum()),
        "open": int(data[data[:, 1] == 0, 2].sum()),
        "median_days": None if math.isinf(median) else median,
        "still_in_stage": {str(day): float(fitter.predict(day)) for day in CHECKPOINT_DAYS},
        "curve": [
            {
                "days": float(times[i]),
                "survival": float(survival.iloc[i]),
                "lower": float(bounds.iloc[i, 0]),
                "upper": float(bounds.iloc[i, 1]),
            }
            for i in keep
        ],
    }


def time_in_stage(
    session: Session,
    population: Population | None = None,
    *,
    as_of: datetime | None = None,
    stage: str | None = None,
    by_cohort: bool = False,
) -> dict[str, Any]:
    """Kaplan-Meier time in each stage (or in ``stage`` per cohort), open spells censored."""
    population = population or Population()
    as_of = as_of or clock.now(session)
    model = stage_model(session)
    rows = spell_counts(session, population, as_of, by_cohort=by_cohort)
    groups: dict[tuple[int, str | None], list[tuple[int, int, int]]] = {}
    for stage_id, cohort, days, closed, count in rows:
        groups.setdefault((stage_id, cohort), []).append((days, closed, count))
    wanted = model.by_key.get(stage) if stage else None
    out = []
    for s in model.stages:
        if wanted is not None and s.id != wanted.id:
            continue
        cohorts = sorted({c for (sid, c) in groups if sid == s.id and c is not None})
        keys: list[str | None] = list(cohorts[-MAX_COHORTS:]) if by_cohort else [None]
        for cohort in keys:
            estimate = kaplan_meier(groups.get((s.id, cohort), []))
            if estimate is None:
                continue
            out.append({"stage": s.key, "name": s.name, "cohort": cohort, **estimate})
    return {"as_of": as_of, "curves": out}
