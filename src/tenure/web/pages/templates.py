"""Email template pages: the list, the editor with a live preview, version history.

The editor's preview posts the form (with its CSRF token) to ``/templates/preview`` as the
author types and shows the answer in a sandboxed iframe (``srcdoc``, no scripts, no
same-origin): JSON with the rendered subject, HTML and text, or a 422 listing each problem
with its line. The person whose data fills it is chosen by id or by a search
(``/templates/people?q=``). Everyone may read and preview; only ``TEMPLATE_EDITORS`` see
the save controls (the actions check again).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.queries import PeopleFilter, get_person, list_people
from tenure.errors import InvalidInput, NotFound
from tenure.identity.permissions import TEMPLATE_EDITORS, may
from tenure.messaging.templating import actions, queries
from tenure.messaging.templating.checks import used_names
from tenure.messaging.templating.context import build_context, schema_for
from tenure.messaging.templating.fields import describe
from tenure.messaging.templating.models import TemplatePurpose
from tenure.messaging.templating.render import TemplateInvalid, render_source
from tenure.messaging.templating.schemas import PreviewIn, TemplateCreate, TemplateUpdate
from tenure.timeline.models import Event
from tenure.validation import RowId, parse_row_id
from tenure.web.api.templates import problems_body
from tenure.web.deps import PageActor, PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

M = TypeVar("M", bound=BaseModel)

router = APIRouter(include_in_schema=False)

BLANK = {
    "name": "",
    "purpose": TemplatePurpose.marketing.value,
    "description": "",
    "subject": "Hello {{ person.first_name or person.name }}",
    "html": "<p>Hello {{ person.first_name or person.name }},</p>\n",
}


def _preview_person(session: Session, person: str | None) -> dict[str, Any] | None:
    """The person named in the URL, else the one with the newest order (the most to show)."""
    person_id = parse_row_id(person)
    if person_id is None:
        person_id = session.scalar(
            select(Event.person_id)
            .where(Event.type == "order")
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(1)
        )
    if person_id is None:
        return None
    try:
        found = get_person(session, person_id)
    except NotFound:
        return None
    return {"id": found["id"], "label": _label(found)}


def _label(person: dict[str, Any]) -> str:
    name = f"{person['first_name'] or ''} {person['last_name'] or ''}".strip()
    emails = [i["value"] for i in person["identities"] if i["kind"] == "email"]
    parts = [name or "(no name)", *emails[:1]]
    return f"#{person['id']} " + " · ".join(parts)


def _editor(
    request: Request,
    session: Session,
    ctx: Any,
    *,
    form: dict[str, Any],
    template: dict[str, Any] | None = None,
    person: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "templates/edit.html",
        status_code=status_code,
        ctx=ctx,
        form=form,
        template=template,
        errors=errors or [],
        can_edit=may(ctx.actor, TEMPLATE_EDITORS),
        person=_preview_person(session, person),
        fields=describe(schema_for(session)),
        purposes=[p.value for p in TemplatePurpose],
    )


def _errors(error: InvalidInput) -> list[dict[str, Any]]:
    if isinstance(error, TemplateInvalid):
        return problems_body(error)["errors"]
    return [{"field": error.field, "line": None, "reason": error.reason}]


def _invalid(invalid: ValidationError) -> InvalidInput:
    first = invalid.errors(include_url=False)[0]
    return InvalidInput(str(first["loc"][0]), first["msg"])


def _validated(model: type[M], form: dict[str, str]) -> M:
    """The form as ``model``, or its first problem as an InvalidInput naming the field."""
    try:
        return model.model_validate(form)
    except ValidationError as invalid:
        raise _invalid(invalid)


@router.get("/templates")
def templates_list(
    request: Request, session: SessionDep, ctx: PageCtx, archived: bool = False
) -> Response:
    actions.ensure_library(session)
    return render(
        request,
        "templates/list.html",
        ctx=ctx,
        templates=queries.list_templates(session, archived=archived),
        archived=archived,
        can_edit=may(ctx.actor, TEMPLATE_EDITORS),
    )


@router.get("/templates/new")
def new_template(
    request: Request, session: SessionDep, ctx: PageCtx, person: str | None = None
) -> Response:
    return _editor(request, session, ctx, form=dict(BLANK), person=person)


@router.get("/templates/people")
def search_people(session: SessionDep, actor: PageActor, q: str = "") -> JSONResponse:
    """People to preview with: by id, or up to 8 matching a name or email."""
    person_id = parse_row_id(q.strip().lstrip("#"))
    if person_id is not None:
        found = _preview_person(session, str(person_id))
        return JSONResponse({"items": [found] if found else []})
    if len(q.strip()) < 2:
        return JSONResponse({"items": []})
    page = list_people(session, filters=PeopleFilter(q=q.strip()), limit=8)
    return JSONResponse({"items": [{"id": p["id"], "label": _label(p)} for p in page.items]})


@router.post("/templates/preview")
def preview(
    session: SessionDep,
    actor: PageActor,
    subject: Annotated[str, Form()] = "",
    html: Annotated[str, Form()] = "",
    person_id: Annotated[str, Form()] = "",
) -> JSONResponse:
    """The live preview: rendered subject, HTML and text, or a 422 with each problem's line."""
    try:
        body = PreviewIn(subject=subject, html=html, person_id=parse_row_id(person_id) or 0)
    except ValidationError as invalid:
        error = _invalid(invalid)
        reason = "choose a person to preview with" if error.field == "person_id" else error.reason
        return JSONResponse(
            {"errors": [{"field": error.field, "line": None, "reason": reason}]},
            status_code=422,
        )

    def run() -> dict[str, Any]:
        context = build_context(session, body.person_id, names=used_names(body.subject, body.html))
        email = render_source(
            subject=body.subject, html=body.html, context=context, schema=schema_for(session)
        )
        return {"subject": email.subject, "html": email.html, "text": email.text}

    try:
        return JSONResponse(run())
    except TemplateInvalid as error:
        return JSONResponse(problems_body(error), status_code=422)
    except NotFound as error:
        return JSONResponse(
            {"errors": [{"field": "person_id", "line": None, "reason": str(error)}]},
            status_code=404,
        )


@router.post("/templates/new")
def create_template(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    name: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    html: Annotated[str, Form()] = "",
    person_id: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "name": name,
        "purpose": purpose,
        "description": description,
        "subject": subject,
        "html": html,
    }
    try:
        data = _validated(TemplateCreate, form)
        template, _ = actions.create_template(
            session=session,
            actor=actor,
            name=data.name,
            purpose=data.purpose,
            description=data.description,
            subject=data.subject,
            html=data.html,
        )
    except InvalidInput as error:
        session.rollback()
        return _editor(
            request,
            session,
            ctx,
            form=form,
            person=person_id,
            errors=_errors(error),
            status_code=422,
        )
    return RedirectResponse(f"/templates/{template.id}?saved=1", status_code=303)


@router.get("/templates/{template_id}")
def edit_template(
    request: Request,
    template_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    person: str | None = None,
) -> Response:
    template = queries.get_template(session, template_id)
    form = {
        "name": template["name"],
        "purpose": template["purpose"],
        "description": template["description"],
        "subject": template["version"]["subject"],
        "html": template["version"]["html"],
    }
    return _editor(request, session, ctx, form=form, template=template, person=person)


@router.post("/templates/{template_id}")
def update_template(
    request: Request,
    template_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    actor: PageWriter,
    name: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    html: Annotated[str, Form()] = "",
    person_id: Annotated[str, Form()] = "",
) -> Response:
    template = queries.get_template(session, template_id)
    form = {
        "name": name,
        "purpose": purpose,
        "description": description,
        "subject": subject,
        "html": html,
    }
    try:
        data = _validated(TemplateUpdate, form)
        actions.update_template(
            session=session,
            actor=actor,
            template_id=template_id,
            **data.model_dump(exclude_none=True),
        )
    except InvalidInput as error:
        session.rollback()
        return _editor(
            request,
            session,
            ctx,
            form=form,
            template=template,
            person=person_id,
            errors=_errors(error),
            status_code=422,
        )
    number = queries.get_template(session, template_id)["version"]["number"]
    suffix = f"&person={person_id}" if parse_row_id(person_id) else ""
    return RedirectResponse(f"/templates/{template_id}?saved={number}{suffix}", status_code=303)


@router.post("/templates/{template_id}/archive")
def archive_template(
    template_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    archived: Annotated[str, Form()] = "1",
) -> Response:
    actions.update_template(
        session=session, actor=actor, template_id=template_id, archived=archived == "1"
    )
    return RedirectResponse("/templates", status_code=303)


@router.get("/templates/{template_id}/versions")
def versions_page(
    request: Request,
    template_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    number: int | None = None,
) -> Response:
    template = queries.get_template(session, template_id)
    versions = queries.list_versions(session, template_id)
    shown = next((v for v in versions if v["number"] == number), versions[0])
    return render(
        request,
        "templates/versions.html",
        ctx=ctx,
        template=template,
        versions=versions,
        shown=shown,
        can_edit=may(ctx.actor, TEMPLATE_EDITORS),
    )


@router.post("/templates/{template_id}/versions/{number}/restore")
def restore_version(
    template_id: RowId, number: RowId, session: SessionDep, actor: PageWriter
) -> Response:
    version = actions.restore_version(
        session=session, actor=actor, template_id=template_id, number=number
    )
    return RedirectResponse(f"/templates/{template_id}?saved={version.number}", status_code=303)
