"""The default stage model and its rules, created the first time lifecycle is used.

Rules are tried from the lowest priority number; the first that holds places the person.
Risk comes first, so a promoter who stopped buying reads At risk, not Advocate; the
catch-all Prospect rule is last. docs/lifecycle.md explains each rule; the thresholds:

* Lapsed: P(alive) < 0.1, or 3 usual order intervals without an order, or a one-time
  buyer silent for a year;
* At risk: churn probability >= 0.6, or 2 usual intervals without an order;
* Advocate: latest NPS answer 9-10, or a converted referral;
* Loyal: at least 5 orders and a 12-month CLV in the top 20%;
* Expanding: a repeat customer who ordered a new item category in the last 180 days, or
  whose recent orders are 1.5 times larger than before;
* Active: a repeat customer whose last order is within 12 months, P(alive) >= 0.5 (or not
  scored yet);
* a repeat customer who is none of these (no order in 12 months, P(alive) < 0.5): At risk;
* New customer: one order;
* Lead: any inbound interaction (visit, email opened or clicked, chat, call, ticket, ...);
* Prospect: everyone else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.db.session import first_use_write
from tenure.lifecycle.models import LifecycleRule, LifecycleSettings, LifecycleStage

#: (key, name, in_funnel, description), in funnel order.
DEFAULT_STAGES: tuple[tuple[str, str, bool, str], ...] = (
    ("prospect", "Prospect", True, "Known, but no interaction yet."),
    ("lead", "Lead", True, "Interacted (visit, email, chat...), no order yet: acquisition."),
    ("new_customer", "New customer", True, "First order placed: conversion."),
    ("active", "Active", True, "Orders again and is likely alive: retention."),
    ("expanding", "Expanding", True, "Buys new categories or more than before: upsell."),
    ("loyal", "Loyal", True, "Many orders and top-tier predicted value."),
    ("advocate", "Advocate", True, "Promoter (NPS 9-10) or brought a converted referral."),
    ("at_risk", "At risk", False, "High churn risk or overdue for an order."),
    ("lapsed", "Lapsed", False, "Very likely gone: P(alive) < 10% or far past the usual gap."),
)

HAS_ORDERED = {"metric": "orders", "op": ">=", "value": 1}
REPEAT = {"metric": "orders", "op": ">=", "value": 2}

#: (priority, stage key, name, condition).
DEFAULT_RULES: tuple[tuple[int, str, str, dict[str, Any]], ...] = (
    (
        10,
        "lapsed",
        "Lapsed: P(alive) under 10% or far past the usual interval",
        {
            "all": [
                HAS_ORDERED,
                {
                    "any": [
                        {"metric": "score.p_alive", "op": "<", "value": 0.1},
                        {"metric": "overdue_ratio", "op": ">=", "value": 3},
                        {
                            "all": [
                                {"metric": "orders", "op": "=", "value": 1},
                                {"metric": "days_since_last_order", "op": ">=", "value": 365},
                            ]
                        },
                    ]
                },
            ]
        },
    ),
    (
        20,
        "at_risk",
        "At risk: high churn probability or overdue",
        {
            "all": [
                HAS_ORDERED,
                {
                    "any": [
                        {"metric": "score.churn_probability", "op": ">=", "value": 0.6},
                        {"metric": "overdue_ratio", "op": ">=", "value": 2},
                    ]
                },
            ]
        },
    ),
    (
        30,
        "advocate",
        "Advocate: promoter or converted referral",
        {
            "all": [
                HAS_ORDERED,
                {
                    "any": [
                        {"metric": "nps_last_score", "op": ">=", "value": 9},
                        {"metric": "referrals_converted", "op": ">=", "value": 1},
                    ]
                },
            ]
        },
    ),
    (
        40,
        "loyal",
        "Loyal: 5+ orders and top-20% predicted CLV",
        {
            "all": [
                {"metric": "orders", "op": ">=", "value": 5},
                {"metric": "score.clv_percentile", "op": ">=", "value": 0.8},
            ]
        },
    ),
    (
        50,
        "expanding",
        "Expanding: new category or larger orders lately",
        {
            "all": [
                REPEAT,
                {
                    "any": [
                        {"metric": "new_categories_180d", "op": ">=", "value": 1},
                        {"metric": "upsell_ratio_180d", "op": ">=", "value": 1.5},
                    ]
                },
            ]
        },
    ),
    (
        60,
        "active",
        "Active: repeat order within 12 months, likely alive",
        {
            "all": [
                REPEAT,
                {"metric": "days_since_last_order", "op": "<=", "value": 365},
                {
                    "any": [
                        {"metric": "score.p_alive", "op": ">=", "value": 0.5},
                        {"metric": "score.p_alive", "op": "unset"},
                    ]
                },
            ]
        },
    ),
    (70, "at_risk", "At risk: repeat customer no longer active", {"all": [REPEAT]}),
    (80, "new_customer", "New customer: first order", {"all": [HAS_ORDERED]}),
    (
        90,
        "lead",
        "Lead: interacted without ordering",
        {"all": [{"metric": "engagements", "op": ">=", "value": 1}]},
    ),
    (100, "prospect", "Prospect: everyone else", {"all": []}),
)


def ensure_default_model(session: Session) -> bool:
    """Create the default stages, rules and settings on the workspace's first use.

    The settings row marks a workspace whose model exists, so stages an admin removed do
    not come back. Returns whether it created them. Two first uses at once: the loser's
    insert breaks the unique stage key, its savepoint rolls back, and it reads the
    winner's model. On SQLite a reader (a GET) writes them under the write lock and
    commits them at once (``db.session.first_use_write``).
    """
    if _model_exists(session):
        return False
    with first_use_write(session) as own_transaction:
        if own_transaction and _model_exists(session):
            return False  # made by another request while this one waited for the lock
        try:
            with session.begin_nested():
                _create_defaults(session)
        except IntegrityError:
            return False
    return True


def _model_exists(session: Session) -> bool:
    return session.scalar(select(LifecycleSettings.id).limit(1)) is not None


def _create_defaults(session: Session) -> None:
    stages: dict[str, LifecycleStage] = {}
    for position, (key, name, in_funnel, description) in enumerate(DEFAULT_STAGES):
        stage = LifecycleStage(
            key=key, name=name, in_funnel=in_funnel, description=description, position=position
        )
        session.add(stage)
        stages[key] = stage
    session.flush()
    for priority, stage_key, name, condition in DEFAULT_RULES:
        session.add(
            LifecycleRule(
                stage_id=stages[stage_key].id,
                name=name,
                priority=priority,
                condition=condition,
                enabled=True,
            )
        )
    session.add(LifecycleSettings(incremental=True))
    session.flush()
