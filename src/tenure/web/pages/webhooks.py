"""The webhooks pages (admins): subscriptions, the secret shown once, each endpoint's
deliveries with their attempts, redeliver, the disabled notice and re-enable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tenure.errors import InvalidInput, NotFound
from tenure.identity.permissions import WEBHOOK_ADMINS, may, require_role
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep, SettingsDep
from tenure.web.pages.context import PageContext, PageCtx
from tenure.web.templating import render
from tenure.webhooks import actions, queries
from tenure.webhooks.models import DeliveryStatus

router = APIRouter(include_in_schema=False)

#: Deliveries shown on a subscription's page, newest first (the API pages through all).
DELIVERIES_SHOWN = 50
STATUSES = [s.value for s in DeliveryStatus]


def _index(
    request: Request,
    session: SessionDep,
    ctx: PageContext,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    counts = queries.delivery_counts(session)
    subscriptions = [
        queries.subscription_dict(s, counts.get(s.id)) for s in queries.list_subscriptions(session)
    ]
    return render(
        request,
        "webhooks/index.html",
        status_code=status_code,
        ctx=ctx,
        subscriptions=subscriptions,
        can_edit=may(ctx.actor, WEBHOOK_ADMINS),
        **extra,
    )


@router.get("/webhooks")
def webhooks_page(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    require_role(ctx.actor, WEBHOOK_ADMINS)
    return _index(request, session, ctx, form={})


@router.post("/webhooks")
def create_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageWriter,
    ctx: PageCtx,
    url: Annotated[str, Form(max_length=4000)] = "",
    event_types: Annotated[str, Form(max_length=6000)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"url": url, "event_types": event_types, "description": description}
    try:
        created = actions.create_subscription(
            session=session,
            url=url,
            event_types=event_types,
            description=description,
            actor=actor,
            allow_private=settings.webhook_allow_private_addresses,
        )
    except InvalidInput as error:
        session.rollback()
        return _index(request, session, ctx, status_code=422, form=form, error=error)
    # Rendered, not redirected: the secret is in this answer and nowhere else.
    return _index(
        request,
        session,
        ctx,
        status_code=201,
        form={},
        created={"id": created.subscription.id, "url": created.subscription.url},
        secret=created.secret,
    )


def _detail(
    request: Request,
    session: SessionDep,
    ctx: PageContext,
    subscription_id: int,
    *,
    status: str | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    subscription = queries.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    deliveries = queries.list_deliveries(
        session, subscription_id=subscription_id, status=status, limit=DELIVERIES_SHOWN
    )
    attempts = queries.attempts_of(session, [d["id"] for d in deliveries])
    counts = queries.delivery_counts(session).get(subscription_id)
    return render(
        request,
        "webhooks/detail.html",
        status_code=status_code,
        ctx=ctx,
        subscription=queries.subscription_dict(subscription, counts),
        deliveries=deliveries,
        attempts=attempts,
        status=status,
        statuses=STATUSES,
        can_edit=may(ctx.actor, WEBHOOK_ADMINS),
        **extra,
    )


@router.get("/webhooks/{subscription_id}")
def webhook_page(
    request: Request,
    subscription_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    require_role(ctx.actor, WEBHOOK_ADMINS)
    if status not in STATUSES:
        status = None
    return _detail(request, session, ctx, subscription_id, status=status)


@router.post("/webhooks/{subscription_id}")
def update_webhook(
    request: Request,
    subscription_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageWriter,
    ctx: PageCtx,
    url: Annotated[str, Form(max_length=4000)] = "",
    event_types: Annotated[str, Form(max_length=6000)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        actions.update_subscription(
            session=session,
            subscription_id=subscription_id,
            actor=actor,
            allow_private=settings.webhook_allow_private_addresses,
            url=url,
            event_types=event_types,
            description=description,
        )
    except InvalidInput as error:
        session.rollback()
        form = {"url": url, "event_types": event_types, "description": description}
        return _detail(
            request, session, ctx, subscription_id, status_code=422, error=error, form=form
        )
    return RedirectResponse(f"/webhooks/{subscription_id}", status_code=303)


@router.post("/webhooks/{subscription_id}/{change}")
def change_webhook(
    subscription_id: RowId, change: str, session: SessionDep, actor: PageWriter
) -> Response:
    if change in ("enable", "disable"):
        actions.update_subscription(
            session=session,
            subscription_id=subscription_id,
            actor=actor,
            allow_private=True,  # the URL does not change
            enabled=change == "enable",
        )
        return RedirectResponse(f"/webhooks/{subscription_id}", status_code=303)
    if change == "delete":
        actions.delete_subscription(session=session, subscription_id=subscription_id, actor=actor)
        return RedirectResponse("/webhooks", status_code=303)
    return Response(status_code=404)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: RowId, session: SessionDep, actor: PageWriter) -> Response:
    delivery = actions.redeliver(session=session, delivery_id=delivery_id, actor=actor)
    return RedirectResponse(
        f"/webhooks/{delivery.subscription_id}#delivery-{delivery.id}", status_code=303
    )
