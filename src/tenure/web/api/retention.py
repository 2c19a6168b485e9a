"""Retention: the at-risk list, a customer's risk and next best action, alerts, settings, rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from tenure.errors import InvalidInput
from tenure.retention import actions, queries
from tenure.retention.schemas import RetentionConfig, RetentionConfigPatch
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep

router = APIRouter(tags=["retention"])


@router.get("/retention/at-risk")
def list_at_risk(
    session: SessionDep,
    actor: ApiActor,
    min_risk: Annotated[float, Query(ge=0, le=1, description="Only risks at or above this.")] = 0,
    owner_id: Annotated[RowId | None, Query(description="Only customers this user owns.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    """Customers with warning signals, highest value at risk (12-month CLV x risk) first.

    Each item: ``risk`` (0-1), ``value_minor`` and ``value_at_risk_minor`` in minor units
    of ``currency``, ``reasons`` (plain sentences, strongest first, with each signal's
    contribution) and ``signals`` (what each signal measured). Keyset-paged.
    """
    items, next_cursor = queries.at_risk(
        session, min_risk=min_risk, owner_id=owner_id, cursor=cursor, limit=limit
    )
    return {"items": items, "next_cursor": next_cursor, "refresh": queries.last_refresh(session)}


@router.get("/people/{person_id}/risk")
def get_person_risk(person_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """The customer's risk, reasons and open alert episode (risk 0 without signals)."""
    return queries.person_risk(session, person_id)


@router.get("/people/{person_id}/next-best-action")
def get_next_best_action(
    person_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    level: Literal["category", "sku"] = "category",
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
    as_of: Annotated[
        datetime | None,
        Query(description="Judge as of this time (default the workspace clock's now)."),
    ] = None,
) -> dict[str, Any]:
    """What to offer the customer and when, from the mined rules, best first.

    Each offer names the item, the purchase that suggests it (``because_bought``,
    ``bought_on``), the day to offer it (``offer_on`` = that purchase + the rule's median
    lag, or the as-of day when that has passed: ``due_now``), the rule's confidence, lift
    and support, and a sentence. ``popular`` lists the most bought items the customer
    lacks, for callers that want a fallback when ``offers`` is empty.
    """
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidInput("as_of", "needs a timezone offset")
    return queries.next_best_action(session, person_id, as_of=as_of, level=level, limit=limit)


@router.get("/nba/rules")
def list_nba_rules(
    session: SessionDep,
    actor: ApiActor,
    level: Literal["category", "sku"] = "category",
    antecedent: str | None = None,
    consequent: str | None = None,
    sort: Literal["confidence", "lift", "support"] = "confidence",
    min_lift: Annotated[float | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The newest mining's rules "buyers of A buy B within N days": support, confidence,
    lift, lag quartiles (days), best first by ``sort``; ``run`` describes the mining."""
    return queries.nba_rules(
        session,
        level=level,
        antecedent=antecedent,
        consequent=consequent,
        sort=sort,
        min_lift=min_lift,
        limit=limit,
    )


@router.get("/retention/alerts")
def list_alerts(
    session: SessionDep,
    actor: ApiActor,
    open: bool = True,
    person_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Alert episodes, newest first: open ones by default, or all with ``open=false``."""
    return {"items": queries.alerts(session, open_only=open, person_id=person_id, limit=limit)}


@router.get("/retention/settings", response_model=RetentionConfig)
def get_settings(session: SessionDep, actor: ApiActor) -> RetentionConfig:
    """The retention settings in force (defaults where none were set)."""
    return actions.load_config(session)


@router.patch("/retention/settings", response_model=RetentionConfig)
def patch_settings(
    patch: RetentionConfigPatch, session: SessionDep, actor: ApiWriter
) -> RetentionConfig:
    """Change some settings (admin or manager); the next refresh uses them. Audited."""
    return actions.update_settings(session=session, patch=patch, actor=actor)
