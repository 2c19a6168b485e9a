"""The at-risk page (value at risk first, with reasons) and the person page's retention cards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.all_tasks import NIGHTLY_CHAIN
from tenure.customers.queries import list_owners
from tenure.errors import InvalidInput
from tenure.identity.permissions import require_role
from tenure.jobs.queries import pending_tasks
from tenure.retention import actions, queries
from tenure.retention.schemas import RetentionConfigPatch
from tenure.web.api.retention import SETTINGS_EDITORS
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.security import verify_csrf
from tenure.web.templating import render, templates

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def person_retention(request: Request, person_id: int) -> dict[str, Any]:
    """Risk and next best action of one customer, for the person page's cards.

    A template global rather than page context: the person page belongs to the
    customers capability, and this keeps retention's reads in retention.
    """
    with request.app.state.session_factory() as session:
        offers = queries.next_best_action(session, person_id)
        if not offers["offers"]:
            # A customer who bought every category may still have product-level rules.
            products = queries.next_best_action(session, person_id, level="sku")
            if products["offers"]:
                offers = products
        return {"risk": queries.person_risk(session, person_id), "nba": offers}


templates.env.globals["person_retention"] = person_retention


def _percent(value: str, field: str) -> float | None:
    """A form's percentage ("50") as a fraction (0.5); blank leaves the setting alone."""
    if not value.strip():
        return None
    try:
        return float(value) / 100
    except ValueError:
        raise InvalidInput(field, "is not a number")


@router.get("/at-risk")
async def at_risk_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    owner: str | None = None,
    above: str | None = None,
    cursor: str | None = None,
) -> Response:
    config = actions.load_config(session)
    owner_id = int(owner) if owner and owner.isdigit() else None
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
        owner_id=owner_id,
        only_above=only_above,
        refresh=queries.last_refresh(session),
        computing=bool(pending_tasks(session, NIGHTLY_CHAIN)),
        config=config,
        open_alerts=open_alerts,
        can_tune=ctx.actor.can_write and ctx.actor.role in SETTINGS_EDITORS,
    )


@router.post("/at-risk/settings")
async def save_settings(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    csrf_token: Annotated[str, Form()],
    risk_threshold: Annotated[str, Form()] = "",
    clear_threshold: Annotated[str, Form()] = "",
    value_quantile: Annotated[str, Form()] = "",
    fallback_owner_id: Annotated[str, Form()] = "",
) -> Response:
    verify_csrf(request, csrf_token)
    require_role(actor, SETTINGS_EDITORS)
    values: dict[str, Any] = {
        name: number
        for name, raw in (
            ("risk_threshold", risk_threshold),
            ("clear_threshold", clear_threshold),
            ("value_quantile", value_quantile),
        )
        if (number := _percent(raw, name)) is not None
    }
    values["fallback_owner_id"] = int(fallback_owner_id) if fallback_owner_id.isdigit() else None
    actions.update_settings(
        session=session, patch=RetentionConfigPatch(**values), actor_id=actor.user_id
    )
    session.commit()
    return RedirectResponse("/at-risk#settings", status_code=303)
