"""Email templates: list (seeding the library on first use), create, get, edit (a new
subject or body adds a version), archive, versions, restore, the context schema, and a
preview rendered with a real person's data.

A template that does not check is a 422 listing every problem with its ``field``
(``subject``/``html``), 1-based ``line`` and ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from tenure.messaging.templating import actions, queries
from tenure.messaging.templating.checks import used_names
from tenure.messaging.templating.context import build_context, schema_for
from tenure.messaging.templating.fields import describe
from tenure.messaging.templating.render import TemplateInvalid, render_source
from tenure.messaging.templating.schemas import (
    FieldList,
    PreviewIn,
    RenderedOut,
    TemplateCreate,
    TemplateList,
    TemplateOut,
    TemplateUpdate,
    VersionList,
    VersionOut,
)
from tenure.validation import RowId
from tenure.web.deps import ApiActor, ApiWriter, SessionDep


def problems_body(error: TemplateInvalid) -> dict[str, Any]:
    return {
        "error": "invalid_input",
        "errors": [{"field": p.field, "line": p.line, "reason": p.message} for p in error.problems],
    }


class _TemplateErrorRoute(APIRoute):
    """Lists every problem of a template that does not check, each with its line."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except TemplateInvalid as error:
                return JSONResponse(problems_body(error), status_code=422)

        return route


router = APIRouter(prefix="/templates", tags=["templates"], route_class=_TemplateErrorRoute)


@router.get("", response_model=TemplateList)
def list_templates(session: SessionDep, actor: ApiActor, archived: bool = False) -> dict:
    """Templates by name with their current version; the library is added on first use."""
    actions.ensure_library(session)
    return {"items": queries.list_templates(session, archived=archived)}


@router.post("", response_model=TemplateOut, status_code=status.HTTP_201_CREATED)
def create_template(body: TemplateCreate, session: SessionDep, actor: ApiWriter) -> dict:
    template, _ = actions.create_template(
        session=session,
        actor=actor,
        name=body.name,
        purpose=body.purpose,
        description=body.description,
        subject=body.subject,
        html=body.html,
    )
    return queries.get_template(session, template.id)


@router.get("/fields", response_model=FieldList)
def list_fields(session: SessionDep, actor: ApiActor) -> dict:
    """Every variable a template may use, with its kind ("or empty": guard it with if)."""
    return {"items": describe(schema_for(session))}


@router.post("/preview", response_model=RenderedOut)
def preview(body: PreviewIn, session: SessionDep, actor: ApiActor) -> dict:
    """Render unsaved text with a real person's data: subject, HTML (CSS inlined), text."""

    def render() -> dict:
        context = build_context(session, body.person_id, names=used_names(body.subject, body.html))
        email = render_source(
            subject=body.subject, html=body.html, context=context, schema=schema_for(session)
        )
        return {"subject": email.subject, "html": email.html, "text": email.text}

    return render()


@router.get("/{template_id}", response_model=TemplateOut)
def get_template(template_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return queries.get_template(session, template_id)


@router.patch("/{template_id}", response_model=TemplateOut)
def update_template(
    template_id: RowId, body: TemplateUpdate, session: SessionDep, actor: ApiWriter
) -> dict:
    """Change what is given; a subject or body that differs adds a version."""
    actions.update_template(
        session=session,
        actor=actor,
        template_id=template_id,
        **body.model_dump(exclude_unset=True, exclude_none=True),
    )
    return queries.get_template(session, template_id)


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
def archive_template(template_id: RowId, session: SessionDep, actor: ApiWriter) -> Response:
    """Archive (sent messages keep naming its versions, so nothing is deleted);
    ``PATCH {"archived": false}`` brings it back."""
    actions.update_template(session=session, actor=actor, template_id=template_id, archived=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{template_id}/versions", response_model=VersionList)
def list_versions(template_id: RowId, session: SessionDep, actor: ApiActor) -> dict:
    """Every version, newest first."""
    return {"items": queries.list_versions(session, template_id)}


@router.get("/{template_id}/versions/{number}", response_model=VersionOut)
def get_version(template_id: RowId, number: RowId, session: SessionDep, actor: ApiActor) -> dict:
    return queries.get_version(session, template_id, number)


@router.post("/{template_id}/versions/{number}/restore", response_model=TemplateOut)
def restore_version(
    template_id: RowId, number: RowId, session: SessionDep, actor: ApiWriter
) -> dict:
    """Make an old version current again, as a new version with its text."""
    actions.restore_version(session=session, actor=actor, template_id=template_id, number=number)
    return queries.get_template(session, template_id)
