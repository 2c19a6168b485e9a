"""The at-risk page (value at risk first, with reasons); the person page's retention
cards are ``retention.cards``."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.all_tasks import NIGHTLY_CHAIN
from tenure.customers.queries import list_assignees, list_owners
from tenure.errors import InvalidInput
from tenure.identity.permissions import SETTINGS_EDITORS, may
from tenure.jobs.queries import pending_tasks
from tenure.retention import actions, queries
from tenure.retention.schemas import RetentionConfigPatch
from tenure.validation import parse_row_id
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _percent(value: str, field: str) -> float | None:
    """A form's percentage ("50") as a fraction (0.5); blank leaves the setting alone."""
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(field, "is not a number")
    if not math.isfinite(number):  # float() takes "nan", "inf" and "1e999"
        raise InvalidInput(field, "is not a number")
    return number / 100


@router.get("/at-risk")
def at_risk_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    owner: str | None = None,
    above: str | None = None,
    cursor: str | None = None,
) -> Response:
    config = actions.load_config(session)
    owner_id = parse_row_id(owner)
    only_above = above == "1"
    items, next_cursor = queries.at_risk(
        session,
        min_risk=config.risk_threshold if only_above else 0.0,
        owner_id=owner_id,
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    open_alerts = queries.open_alerts_for(session, [i["person_id"] for i in items])
    return render(
        request,
        "retention/at_risk.html",
        ctx=ctx,
        items=items,
        next_cursor=next_cursor,
        is_first_page=cursor is None,
        owners=list_owners(session),
        assignees=list_assignees(session),
        owner_id=owner_id,
        only_above=only_above,
        refresh=queries.last_refresh(session),
        computing=bool(pending_tasks(session, NIGHTLY_CHAIN)),
        config=config,
        open_alerts=open_alerts,
        can_tune=may(ctx.actor, SETTINGS_EDITORS),
    )


@router.post("/at-risk/settings")
def save_settings(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    risk_threshold: Annotated[str, Form()] = "",
    clear_threshold: Annotated[str, Form()] = "",
    value_quantile: Annotated[str, Form()] = "",
    fallback_owner_id: Annotated[str, Form()] = "",
) -> Response:
    values: dict[str, Any] = {
        name: number
        for name, raw in (
            ("risk_threshold", risk_threshold),
            ("clear_threshold", clear_threshold),
            ("value_quantile", value_quantile),
        )
        if (number := _percent(raw, name)) is not None
    }
    # Blank clears the fallback owner; anything else must be a user id (not cleared by a typo).
    owner_id = parse_row_id(fallback_owner_id)
    if owner_id is None and fallback_owner_id.strip():
        raise InvalidInput("fallback_owner_id", "is not a user id")
    values["fallback_owner_id"] = owner_id
    actions.update_settings(session=session, patch=RetentionConfigPatch(**values), actor=actor)
    return RedirectResponse("/at-risk#settings", status_code=303)
