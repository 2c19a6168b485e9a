"""Organization pages: the list with roll-ups and a create form, an organization with its
roll-up, people, timeline, notes and tasks, inline edit, delete with confirmation, and
logging a call, meeting or email on it.

Each write calls one action (``customers.organizations``, ``timeline.actions``), which
checks the actor and commits; a refused form is shown again with what was typed and the
reason in words (``organization_forms``). Controls are hidden from read-only roles
(``may``); the actions refuse them anyway. The CSRF token is checked router-wide.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.customers import attributes as declared
from tenure.customers import organizations as org_actions
from tenure.customers import queries
from tenure.customers.schemas import (
    ActivityCreate,
    NoteCreate,
    OrganizationCreate,
    OrganizationUpdate,
    TaskCreate,
)
from tenure.customers.tasks import with_creators
from tenure.errors import Conflict, InvalidInput
from tenure.identity.permissions import may
from tenure.lifecycle.queries import stage_names
from tenure.profile import organizations as views
from tenure.timeline import actions as timeline_actions
from tenure.timeline.models import DERIVED_TYPES
from tenure.timeline.queries import organization_timeline
from tenure.timeline.story import TYPE_LABELS, tell
from tenure.validation import RowId
from tenure.web.deps import PageWriter, PostedForm, SessionDep
from tenure.web.pages import organization_forms as forms
from tenure.web.pages.context import PageCtx
from tenure.web.pages.people import due_date
from tenure.web.templating import render
from tenure.workspace.settings import time_zone

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TIMELINE_PAGE = 30
PEOPLE_FIRST = 20
REFUSED = (ValidationError, InvalidInput, Conflict)


def _definitions(session: Session) -> list[Any]:
    return sorted(
        declared.declared_attributes(session, "organization").values(), key=lambda d: d.key
    )


def _labels(definitions: list[Any]) -> dict[str, str]:
    return {d.key: d.label for d in definitions}


@router.get("/organizations")
def organizations_list(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    return _list_page(request, session, ctx, q=q or "", cursor=cursor)


def _list_page(
    request: Request,
    session: Session,
    ctx: Any,
    *,
    q: str = "",
    cursor: str | None = None,
    error: forms.FormError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    rows, next_cursor = views.list_organizations(
        session, q=q or None, cursor=cursor, limit=PAGE_SIZE
    )
    return render(
        request,
        "organizations/list.html",
        status_code=422 if error else 200,
        ctx=ctx,
        organizations=rows,
        next_cursor=next_cursor,
        is_first_page=cursor is None,
        q=q,
        can_edit=may(ctx.actor),
        owners=queries.list_owners(session),
        definitions=_definitions(session),
        error=error,
        values=values or {},
    )


@router.post("/organizations")
def create_organization(
    request: Request, session: SessionDep, ctx: PageCtx, actor: PageWriter, form: PostedForm
) -> Response:
    definitions = _definitions(session)
    try:
        data = OrganizationCreate(
            name=forms.text(form, "name"),
            domain=forms.text(form, "domain") or None,
            owner_id=forms.row_id(form, "owner_id"),
            tags=forms.tag_list(forms.text(form, "tags")),
            attributes={
                key: value
                for key, value in forms.attribute_values(
                    form, definitions, only_given=False
                ).items()
                if value is not None
            },
        )
        org = org_actions.create_organization(session=session, data=data, actor=actor)
    except REFUSED as refused:
        session.rollback()
        error = forms.form_error("organization", refused, _labels(definitions))
        return _list_page(request, session, ctx, error=error, values=_typed(form))
    return RedirectResponse(f"/organizations/{org.id}", status_code=303)


def _typed(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get("/organizations/{organization_id}")
def organization_page(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
    type: str | None = None,
    people: str | None = None,
) -> Response:
    return _detail_page(
        request,
        session,
        ctx,
        organization_id,
        cursor=cursor,
        event_type=type,
        all_people=people == "all",
    )


def _detail_page(
    request: Request,
    session: Session,
    ctx: Any,
    organization_id: int,
    *,
    cursor: str | None = None,
    event_type: str | None = None,
    all_people: bool = False,
    error: forms.FormError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    org = views.organization_summary(session, organization_id)
    limit = views.MAX_PEOPLE_SHOWN if all_people else PEOPLE_FIRST
    people = views.organization_people(session, organization_id, limit=limit)
    stages = stage_names(session, [p["id"] for p in people])
    events, next_cursor = organization_timeline(
        session,
        organization_id=organization_id,
        types=[event_type] if event_type else [],
        # Tenure's own conclusions (a stage change or segment entry per member) would bury
        # what people did: shown when picked in the filter.
        leave_out=() if event_type else DERIVED_TYPES,
        cursor=cursor,
        limit=TIMELINE_PAGE,
    )
    owners = {u.id: u for u in queries.list_owners(session)}
    definitions = _definitions(session)
    refused_edit = error is not None and error.form == "organization"
    return render(
        request,
        "organizations/detail.html",
        status_code=422 if error else 200,
        ctx=ctx,
        org=org,
        people=[{**p, "stage": stages.get(p["id"])} for p in people],
        events=[(e, tell(e)) for e in events],
        next_cursor=next_cursor,
        event_type=event_type or "",
        type_labels=TYPE_LABELS,
        notes=queries.notes_for(session, organization_id=organization_id),
        tasks=with_creators(session, views.open_tasks(session, organization_id)),
        owners=owners,
        # Read-only roles cannot do tasks: offering them only earned a refusal.
        assignees=queries.list_assignees(session),
        definitions=definitions,
        edit_values=(values or {}) if refused_edit else _stored_values(org, definitions),
        max_people=views.MAX_PEOPLE_SHOWN,
        can_edit=may(ctx.actor),
        error=error,
        values=values or {},
    )


def _stored_values(org: dict[str, Any], definitions: list[Any]) -> dict[str, Any]:
    """The edit form's fields as the organization has them."""
    stored = org["attributes"]
    return {
        "name": org["name"],
        "domain": org["domain"] or "",
        "owner_id": org["owner_id"] or "",
        "tags": ", ".join(org["tags"]),
        **{f"attr.{d.key}": stored.get(d.key, "") for d in definitions},
    }


def _refused_or_redirect(
    request: Request,
    session: Session,
    ctx: Any,
    organization_id: int,
    form: Any,
    form_name: str,
    write: Any,
    anchor: str,
) -> Response:
    """Run the write built from the posted form; show the page again if it was refused."""
    try:
        write(form)
    except REFUSED as refused:
        session.rollback()
        labels = _labels(_definitions(session))
        error = forms.form_error(form_name, refused, labels)
        return _detail_page(
            request, session, ctx, organization_id, error=error, values=_typed(form)
        )
    return RedirectResponse(f"/organizations/{organization_id}#{anchor}", status_code=303)


@router.post("/organizations/{organization_id}")
def edit_organization(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    form: PostedForm,
) -> Response:
    definitions = _definitions(session)

    def write(form: Any) -> None:
        data = OrganizationUpdate(
            name=forms.text(form, "name"),
            domain=forms.text(form, "domain") or None,
            owner_id=forms.row_id(form, "owner_id"),
            tags=forms.tag_list(forms.text(form, "tags")),
            attributes=forms.attribute_values(form, definitions, only_given=True),
        )
        org_actions.update_organization(
            session=session, organization_id=organization_id, data=data, actor=actor
        )

    return _refused_or_redirect(
        request, session, ctx, organization_id, form, "organization", write, "top"
    )


@router.get("/organizations/{organization_id}/delete")
def confirm_delete(
    request: Request, organization_id: RowId, session: SessionDep, ctx: PageCtx
) -> Response:
    """What deleting would take with it, and the button that does it."""
    org = views.organization_summary(session, organization_id)
    return render(
        request,
        "organizations/delete.html",
        ctx=ctx,
        org=org,
        notes=len(queries.notes_for(session, organization_id=organization_id)),
        can_edit=may(ctx.actor),
    )


@router.post("/organizations/{organization_id}/delete")
def delete_organization(
    request: Request, organization_id: RowId, session: SessionDep, actor: PageWriter
) -> Response:
    org_actions.delete_organization(session=session, organization_id=organization_id, actor=actor)
    return RedirectResponse("/organizations", status_code=303)


@router.post("/organizations/{organization_id}/notes")
def add_note(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    form: PostedForm,
) -> Response:
    def write(form: Any) -> None:
        data = NoteCreate(body=forms.text(form, "body"))
        timeline_actions.add_note(
            session=session, data=data, actor=actor, organization_id=organization_id
        )

    return _refused_or_redirect(
        request, session, ctx, organization_id, form, "note", write, "timeline"
    )


@router.post("/organizations/{organization_id}/tasks")
def add_task(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    form: PostedForm,
) -> Response:
    def write(form: Any) -> None:
        data = TaskCreate(
            title=forms.text(form, "title"),
            assignee_id=forms.row_id(form, "assignee_id"),
            due_at=due_date(forms.text(form, "due"), time_zone(session)),
        )
        org_actions.create_organization_task(
            session=session, organization_id=organization_id, data=data, actor=actor
        )

    return _refused_or_redirect(
        request, session, ctx, organization_id, form, "task", write, "tasks"
    )


@router.post("/organizations/{organization_id}/activities")
def log_activity(
    request: Request,
    organization_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    form: PostedForm,
) -> Response:
    def write(form: Any) -> None:
        data = ActivityCreate(
            kind=forms.text(form, "kind"),  # type: ignore[arg-type]
            direction=forms.text(form, "direction") or "outbound",  # type: ignore[arg-type]
            outcome=forms.text(form, "outcome"),
            duration_minutes=forms.whole_minutes(forms.text(form, "duration_minutes")),
            notes=forms.text(form, "notes"),
        )
        timeline_actions.log_activity(
            session=session, data=data, actor=actor, organization_id=organization_id
        )

    return _refused_or_redirect(
        request, session, ctx, organization_id, form, "activity", write, "timeline"
    )
