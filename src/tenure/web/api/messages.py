"""Email: queue a rendered message to a person, read the outbox, the suppression list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from tenure.errors import NotFound
from tenure.messaging import actions, queries
from tenure.messaging.schemas import MessageIn, SuppressionIn, TemplateSendIn
from tenure.validation import RowId
from tenure.web.api.paging import CursorParam, LimitParam, SearchParam
from tenure.web.deps import ApiActor, ApiWriter, SessionDep, SettingsDep

router = APIRouter(tags=["messaging"])

StatusParam = Literal["queued", "deferred", "sent", "failed", "suppressed"]


def _before(cursor: str | None) -> int | None:
    return int(cursor) if cursor and cursor.isdigit() else None


@router.post("/messages", status_code=201)
def create_message(
    body: MessageIn, session: SessionDep, settings: SettingsDep, actor: ApiWriter
) -> dict[str, Any]:
    """Queue an email; consent, fatigue, quiet hours and limits are checked when it is
    sent (its ``status`` and ``reason`` say what became of it)."""
    message = actions.queue_email(
        session,
        actor=actor,
        person_id=body.person_id,
        subject=body.subject,
        html=body.html,
        text=body.text,
        purpose=body.purpose,
        template_version_id=body.template_version_id,
        campaign_key=body.campaign_key,
        settings=settings,
    )
    return queries.message_dict(message, with_body=True)


@router.post("/templates/{template_id}/send", status_code=201)
def send_template(
    template_id: RowId,
    body: TemplateSendIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiWriter,
) -> dict[str, Any]:
    """Render the template's current version for the person and queue it (its purpose is
    the template's); a template that does not render for this person is a 422 listing
    each problem, an archived one a 409."""
    message = actions.send_template(
        session,
        actor=actor,
        person_id=body.person_id,
        template_id=template_id,
        campaign_key=body.campaign_key,
        settings=settings,
    )
    return queries.message_dict(message, with_body=True)


@router.get("/messages")
def list_messages(
    session: SessionDep,
    actor: ApiActor,
    status: Annotated[
        StatusParam | None, Query(description="Only messages in this status.")
    ] = None,
    person_id: Annotated[RowId | None, Query(description="Only messages to this person.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    """The outbox, newest first."""
    rows = queries.list_messages(
        session, status=status, person_id=person_id, before_id=_before(cursor), limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [queries.message_dict(m) for m in rows],
        "next_cursor": str(rows[-1].id) if more and rows else None,
    }


@router.get("/messages/{message_id}")
def get_message(message_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    message = queries.get_message(session, message_id)
    if message is None:
        raise NotFound("message", message_id)
    return queries.message_dict(message, with_body=True)


@router.get("/suppressions")
def list_suppressions(
    session: SessionDep,
    actor: ApiActor,
    q: SearchParam = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> dict[str, Any]:
    rows = queries.list_suppressions(session, search=q, before_id=_before(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [queries.suppression_dict(r) for r in rows],
        "next_cursor": str(rows[-1].id) if more and rows else None,
    }


@router.post("/suppressions", status_code=201)
def add_suppression(body: SuppressionIn, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """Suppress an address (admins); 409 if it is already listed."""
    row = actions.add_suppression(session, actor=actor, address=body.address, reason=body.reason)
    return queries.suppression_dict(row)


@router.delete("/suppressions/{suppression_id}", status_code=204)
def remove_suppression(suppression_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    actions.remove_suppression(session, actor=actor, suppression_id=suppression_id)
    return Response(status_code=204)
