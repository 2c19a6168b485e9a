"""The outbox, a message, the suppression list, and "Send email" on the person page.

Everyone who logs in reads them (the read-only analyst too); sending needs a role that
writes and the suppression list's changes need an admin (``identity.permissions``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tenure.errors import InvalidInput, NotFound
from tenure.identity.permissions import SUPPRESSION_ADMINS, may
from tenure.messaging import actions, queries
from tenure.validation import RowId, parse_row_id
from tenure.web.deps import PageWriter, SessionDep, SettingsDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 100


@router.get("/messages")
def outbox_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    status: Annotated[str, Query()] = "",
    cursor: Annotated[str, Query()] = "",
) -> Response:
    wanted = status if status in queries.STATUSES else None
    before = int(cursor) if cursor.isdigit() else None
    rows = queries.list_messages(session, status=wanted, before_id=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render(
        request,
        "messaging/outbox.html",
        ctx=ctx,
        messages=rows,
        names=queries.person_names(session, {m.person_id for m in rows if m.person_id}),
        counts=queries.status_counts(session),
        statuses=queries.STATUSES,
        status=wanted or "",
        next_cursor=str(rows[-1].id) if more and rows else None,
    )


@router.get("/messages/{message_id}")
def message_page(
    request: Request, message_id: RowId, session: SessionDep, ctx: PageCtx
) -> Response:
    message = queries.get_message(session, message_id)
    if message is None:
        raise NotFound("message", message_id)
    names = queries.person_names(session, {message.person_id} if message.person_id else set())
    return render(
        request,
        "messaging/message.html",
        ctx=ctx,
        message=message,
        person_name=names.get(message.person_id or 0),
    )


@router.get("/suppressions")
def suppressions_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    q: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    return render(
        request,
        "messaging/suppressions.html",
        ctx=ctx,
        rows=queries.list_suppressions(session, search=q.strip() or None),
        q=q,
        may_edit=may(ctx.actor, SUPPRESSION_ADMINS),
    )


@router.post("/suppressions")
def add_suppression(
    session: SessionDep,
    actor: PageWriter,
    address: Annotated[str, Form(max_length=320)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    actions.add_suppression(session, actor=actor, address=address, reason=reason)
    return RedirectResponse("/suppressions", status_code=303)


@router.post("/suppressions/{suppression_id}/delete")
def remove_suppression(suppression_id: RowId, session: SessionDep, actor: PageWriter) -> Response:
    actions.remove_suppression(session, actor=actor, suppression_id=suppression_id)
    return RedirectResponse("/suppressions", status_code=303)


@router.post("/people/{person_id}/emails")
def send_email(
    person_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    actor: PageWriter,
    template_id: Annotated[str, Form()] = "",
    subject: Annotated[str, Form(max_length=998)] = "",
    text: Annotated[str, Form(max_length=100_000)] = "",
    purpose: Annotated[Literal["marketing", "transactional"], Form()] = "transactional",
) -> Response:
    """A template rendered for the person, or a message written here."""
    chosen = parse_row_id(template_id)
    if chosen is not None:
        message = actions.send_template(
            session, actor=actor, person_id=person_id, template_id=chosen, settings=settings
        )
    else:
        if not subject.strip():
            raise InvalidInput("subject", "write a subject, or choose a template")
        message = actions.queue_email(
            session,
            actor=actor,
            person_id=person_id,
            subject=subject,
            html="",
            text=text,
            purpose=purpose,
            settings=settings,
        )
    return RedirectResponse(f"/messages/{message.id}", status_code=303)
