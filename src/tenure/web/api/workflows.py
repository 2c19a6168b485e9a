"""Workflows: create, read, edit the draft, publish, pause, resume, archive; enrol a
person or a segment, list enrolments, cancel one.

A definition that does not parse or check is a 422 listing every problem with its
``field`` (``steps.<step id>.template_id``, ``trigger.cron``, ``conditions``...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from tenure.automation import actions, queries
from tenure.automation.checks import DefinitionInvalid
from tenure.automation.models import EnrolmentState, WorkflowStatus
from tenure.errors import InvalidInput
from tenure.validation import RowId
from tenure.web.deps import ApiActor, ApiWriter, SessionDep, write_now


def problems_body(error: DefinitionInvalid) -> dict[str, Any]:
    return {
        "error": "invalid_input",
        "errors": [{"field": p.field, "reason": p.message} for p in error.problems],
    }


class _DefinitionErrorRoute(APIRoute):
    """Lists every problem of a definition, each with its field."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DefinitionInvalid as error:
                return JSONResponse(problems_body(error), status_code=422)

        return route


router = APIRouter(prefix="/workflows", tags=["workflows"], route_class=_DefinitionErrorRoute)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkflowCreate(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    # Checked by automation.checks, so a bad one is a 422 naming the step and field.
    definition: dict[str, Any]


class WorkflowUpdate(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    definition: dict[str, Any] | None = None


class EnrolIn(_Strict):
    """One of ``person_id`` or ``segment_id``."""

    person_id: RowId | None = None
    segment_id: RowId | None = None


@router.get("")
def list_workflows(
    session: SessionDep,
    actor: ApiActor,
    status_filter: Annotated[WorkflowStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Every workflow with its status, published version and enrolments by state."""
    value = status_filter.value if status_filter else None
    return {"items": queries.workflow_summaries(session, status=value)}


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(body: WorkflowCreate, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """A draft workflow; ``POST /workflows/{id}/publish`` makes it live."""
    created = write_now(
        session,
        lambda: actions.create_workflow(
            session,
            actor=actor,
            name=body.name,
            description=body.description,
            definition=body.definition,
        ),
    )
    return queries.workflow_detail(session, created.id)


@router.get("/{workflow_id}")
def get_workflow(workflow_id: RowId, session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """The draft, the published definition, the versions, people at each step."""
    return queries.workflow_detail(session, workflow_id)


@router.patch("/{workflow_id}")
def update_workflow(
    workflow_id: RowId, body: WorkflowUpdate, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Edit the draft (and name, description); published people are not affected until
    the next publish, and then only newcomers."""
    write_now(
        session,
        lambda: actions.update_draft(
            session,
            actor=actor,
            workflow_id=workflow_id,
            definition=body.definition,
            name=body.name,
            description=body.description,
        ),
    )
    return queries.workflow_detail(session, workflow_id)


@router.post("/{workflow_id}/publish")
def publish(workflow_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """Check the draft against the database and publish it as the next version."""
    write_now(session, lambda: actions.publish(session, actor=actor, workflow_id=workflow_id))
    return queries.workflow_detail(session, workflow_id)


@router.post("/{workflow_id}/pause")
def pause(workflow_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    write_now(session, lambda: actions.pause(session, actor=actor, workflow_id=workflow_id))
    return queries.workflow_detail(session, workflow_id)


@router.post("/{workflow_id}/resume")
def resume(workflow_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    write_now(session, lambda: actions.resume(session, actor=actor, workflow_id=workflow_id))
    return queries.workflow_detail(session, workflow_id)


@router.post("/{workflow_id}/archive")
def archive(workflow_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """End it: active enrolments are cancelled with their pending steps."""
    write_now(session, lambda: actions.archive(session, actor=actor, workflow_id=workflow_id))
    return queries.workflow_detail(session, workflow_id)


@router.post("/{workflow_id}/enrolments", status_code=status.HTTP_201_CREATED)
def enrol(
    workflow_id: RowId, body: EnrolIn, session: SessionDep, actor: ApiWriter
) -> dict[str, Any]:
    """Enrol a person or a segment's members by hand; ``enrolled`` says how many (the
    re-entry policy may refuse some)."""
    if (body.person_id is None) == (body.segment_id is None):
        raise InvalidInput("person_id", "give person_id or segment_id, not both")
    person_id, segment_id = body.person_id, body.segment_id

    def write() -> int:
        if person_id is not None:
            return actions.enrol_person(
                session, actor=actor, workflow_id=workflow_id, person_id=person_id
            )
        assert segment_id is not None
        return actions.enrol_segment(
            session, actor=actor, workflow_id=workflow_id, segment_id=segment_id
        )

    return {"enrolled": write_now(session, write)}


@router.get("/{workflow_id}/enrolments")
def list_enrolments(
    workflow_id: RowId,
    session: SessionDep,
    actor: ApiActor,
    state: EnrolmentState | None = None,
    person_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Enrolments, newest first, each with its step rows (state, due, outcome)."""
    queries.workflow_detail(session, workflow_id)  # 404 for an unknown workflow
    return {
        "items": queries.list_enrolments(
            session,
            workflow_id=workflow_id,
            person_id=person_id,
            state=state.value if state else None,
            limit=limit,
            offset=offset,
        )
    }


@router.post("/enrolments/{enrolment_id}/cancel")
def cancel_enrolment(enrolment_id: RowId, session: SessionDep, actor: ApiWriter) -> dict[str, Any]:
    """End an active enrolment by hand; its pending steps are cancelled."""
    enrolment = write_now(
        session,
        lambda: actions.cancel_enrolment(session, actor=actor, enrolment_id=enrolment_id),
    )
    return queries.enrolment_detail(session, enrolment.id)
