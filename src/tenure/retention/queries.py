"""Reads of retention: the at-risk list, one customer's risk, alerts, NBA rules and offers.

``next_best_action`` is also what templates call (:func:`template_functions`): the
messaging templates and the person page get the same offers as the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import desc, select, tuple_
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.db.paging import decode_cursor, encode_cursor
from tenure.errors import InvalidInput, NotFound
from tenure.identity.models import User
from tenure.retention import nba
from tenure.retention.models import NbaRule, NbaRun, RetentionAlert, RetentionRefresh, RiskScore
from tenure.workspace import clock

RULE_SORTS = {"confidence", "lift", "support"}


def last_refresh(session: Session) -> dict[str, Any] | None:
    row = session.scalars(
        select(RetentionRefresh).order_by(RetentionRefresh.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return {
        "as_of": row.as_of,
        "computed_at": row.computed_at,
        "scores_version": row.scores_version,
        "customers_with_signals": row.customers_with_signals,
        "above_threshold": row.above_threshold,
        "alerts_opened": row.alerts_opened,
        "alerts_closed": row.alerts_closed,
        "tasks_created": row.tasks_created,
    }


def _risk_dict(row: RiskScore) -> dict[str, Any]:
    return {
        "person_id": row.person_id,
        "as_of": row.as_of,
        "risk": round(row.risk, 4),
        "value_minor": row.value_minor,
        "value_at_risk_minor": row.value_at_risk_minor,
        "currency": row.currency,
        "reasons": row.reasons,
        "signals": row.signals,
    }


def at_risk(
    session: Session,
    *,
    min_risk: float = 0.0,
    owner_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Customers with signals, highest value at risk (CLV x risk) first; keyset-paged."""
    # The page's risk rows first (ix_risk_scores_value_at_risk, read from the top), then
    # their people and owners: joined in one select, SQLite scanned all of ``people`` and
    # probed each person's risk row when risk_scores had no statistics (1M people: ~0.1 s).
    page = select(RiskScore.person_id).where(RiskScore.risk >= min_risk)
    if owner_id is not None:
        page = page.where(
            RiskScore.person_id.in_(select(Person.id).where(Person.owner_id == owner_id))
        )
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after.value, int) or isinstance(after.value, bool):
            raise InvalidInput("cursor", "is not a cursor this list returned")
        key = tuple_(RiskScore.value_at_risk_minor, RiskScore.person_id)
        page = page.where(key < tuple_(after.value, after.id))
    ids = (
        page.order_by(desc(RiskScore.value_at_risk_minor), desc(RiskScore.person_id))
        .limit(limit + 1)
        .subquery()
    )
    owner = User.__table__.alias("owner")
    query = (
        select(
            RiskScore,
            Person.first_name,
            Person.last_name,
            Person.owner_id,
            owner.c.name,
            owner.c.email,
        )
        .join(ids, ids.c.person_id == RiskScore.person_id)
        .join(Person, Person.id == RiskScore.person_id)
        .outerjoin(owner, owner.c.id == Person.owner_id)
        .order_by(desc(RiskScore.value_at_risk_minor), desc(RiskScore.person_id))
    )
    rows = session.execute(query).all()
    items = []
    for risk, first, last, owner_id_, owner_name, owner_email in rows[:limit]:
        item = _risk_dict(risk)
        item["name"] = f"{first} {last}".strip()
        item["owner"] = (
            None if owner_id_ is None else {"id": owner_id_, "name": owner_name or owner_email}
        )
        items.append(item)
    next_cursor = None
    if len(rows) > limit:
        tail = items[-1]
        next_cursor = encode_cursor(tail["value_at_risk_minor"], tail["person_id"])
    return items, next_cursor


def person_risk(session: Session, person_id: int) -> dict[str, Any]:
    """The customer's risk and reasons (risk 0 without signals) and their open episode."""
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    row = session.get(RiskScore, person_id)
    refreshed = last_refresh(session)
    out: dict[str, Any] = (
        _risk_dict(row)
        if row
        else {
            "person_id": person_id,
            "as_of": refreshed["as_of"] if refreshed else None,
            "risk": 0.0,
            "value_minor": None,
            "value_at_risk_minor": 0,
            "currency": None,
            "reasons": [],
            "signals": {},
        }
    )
    out["refreshed"] = refreshed is not None
    alert = session.scalars(
        select(RetentionAlert).where(
            RetentionAlert.person_id == person_id, RetentionAlert.closed_at.is_(None)
        )
    ).first()
    out["open_alert"] = alert_dict(alert) if alert else None
    return out


def alert_dict(alert: RetentionAlert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "person_id": alert.person_id,
        "opened_at": alert.opened_at,
        "opened_as_of": alert.opened_as_of,
        "closed_at": alert.closed_at,
        "risk_at_open": round(alert.risk_at_open, 4),
        "last_risk": round(alert.last_risk, 4),
        "peak_risk": round(alert.peak_risk, 4),
        "value_minor": alert.value_minor,
        "currency": alert.currency,
        "reasons": alert.reasons,
        "task_id": alert.task_id,
        "assignee_id": alert.assignee_id,
    }


def alerts(
    session: Session, *, open_only: bool = True, person_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    query = select(RetentionAlert).order_by(RetentionAlert.id.desc()).limit(limit)
    if open_only:
        query = query.where(RetentionAlert.closed_at.is_(None))
    if person_id is not None:
        query = query.where(RetentionAlert.person_id == person_id)
    return [alert_dict(a) for a in session.scalars(query)]


def open_alerts_for(session: Session, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The open episode of each of these customers that has one."""
    if not person_ids:
        return {}
    rows = session.scalars(
        select(RetentionAlert).where(
            RetentionAlert.closed_at.is_(None), RetentionAlert.person_id.in_(person_ids)
        )
    )
    return {a.person_id: alert_dict(a) for a in rows}


def latest_run(session: Session) -> NbaRun | None:
    return session.scalars(select(NbaRun).order_by(NbaRun.id.desc()).limit(1)).first()


def run_dict(run: NbaRun) -> dict[str, Any]:
    return {
        "as_of": run.as_of,
        "mined_at": run.mined_at,
        "window_days": run.window_days,
        "min_support": run.min_support,
        "buyers": run.buyers,
        "rules": run.rules,
    }


def _rule_dict(rule: NbaRule, window_days: int) -> dict[str, Any]:
    out = {c: getattr(rule, c) for c in nba.RULE_COLUMNS}
    out["level"] = rule.level
    out["text"] = nba.rule_sentence(out, window_days)
    return out


def nba_rules(
    session: Session,
    *,
    level: nba.Level = "category",
    antecedent: str | None = None,
    consequent: str | None = None,
    sort: str = "confidence",
    min_lift: float | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The newest run's rules of one level, best first by ``sort``."""
    if sort not in RULE_SORTS:
        raise InvalidInput("sort", f"one of {', '.join(sorted(RULE_SORTS))}")
    run = latest_run(session)
    if run is None:
        return {"run": None, "items": []}
    query = select(NbaRule).where(NbaRule.run_id == run.id, NbaRule.level == level)
    if antecedent:
        query = query.where(NbaRule.antecedent == antecedent)
    if consequent:
        query = query.where(NbaRule.consequent == consequent)
    if min_lift is not None:
        query = query.where(NbaRule.lift >= min_lift)
    query = query.order_by(desc(getattr(NbaRule, sort)), NbaRule.id).limit(limit)
    return {
        "run": run_dict(run),
        "items": [_rule_dict(r, run.window_days) for r in session.scalars(query)],
    }


def next_best_action(
    session: Session,
    person_id: int,
    *,
    as_of: datetime | None = None,
    level: nba.Level = "category",
    limit: int = 3,
) -> dict[str, Any]:
    """What to offer the customer, when, and why, from the stored rules.

    Items the customer bought are never offered. Without an applicable rule (no purchase
    yet, or only items without rules) ``offers`` is empty and ``popular`` lists the most
    bought items they lack, marked as such, for a caller that wants a fallback.
    """
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    run = latest_run(session)
    as_of = as_of or clock.now(session)
    connection = session.connection()
    history = nba.purchase_history(connection, as_of=as_of, level=level, person_ids=[person_id])
    out: dict[str, Any] = {
        "person_id": person_id,
        "as_of": as_of,
        "run": run_dict(run) if run else None,
        "offers": [],
        "popular": [],
    }
    if run is None:
        return out
    owned = set(history["item"])
    rules = session.scalars(
        select(NbaRule).where(
            NbaRule.run_id == run.id, NbaRule.level == level, NbaRule.antecedent.in_(owned or {""})
        )
    ).all()
    frame = pd.DataFrame(
        [{c: getattr(r, c) for c in nba.RULE_COLUMNS} for r in rules], columns=nba.RULE_COLUMNS
    )
    offers = nba.recommend(history, frame, as_of_day=nba.to_day(as_of), k=limit)
    for offer in cast(list[dict[str, Any]], offers.to_dict("records")):
        offer_on = nba.from_day(offer["offer_day"])
        out["offers"].append(
            {
                "offer": offer["consequent"],
                "because_bought": offer["antecedent"],
                "bought_on": nba.from_day(offer["anchor_day"]),
                "offer_on": offer_on,
                "due_now": offer["offer_day"] <= nba.to_day(as_of),
                "confidence": round(float(offer["confidence"]), 4),
                "lift": round(float(offer["lift"]), 4),
                "support_count": int(offer["support_count"]),
                "median_lag_days": float(offer["median_lag_days"]),
                "text": nba.rule_sentence(offer, run.window_days),
            }
        )
    ranked = run.popularity.get(level, [])
    out["popular"] = [item for item, _ in ranked if item not in owned][:limit]
    return out


def template_functions(
    session: Session, *, as_of: datetime | None = None
) -> dict[str, Callable[..., Any]]:
    """Functions a template may call, bound to ``session``: ``next_best_action(person_id)``.

    For Jinja environments (the messaging templates, the person page):
    ``env.globals.update(template_functions(session))`` then
    ``{% set nba = next_best_action(person.id) %}{{ nba.offers[0].offer }}``.
    """

    def _next_best_action(person_id: int, limit: int = 3) -> dict[str, Any]:
        return next_best_action(session, int(person_id), as_of=as_of, limit=limit)

    return {"next_best_action": _next_best_action}
