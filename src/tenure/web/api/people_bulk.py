"""Bulk actions on people: ``POST /api/v1/people/bulk``, and the list page's bar.

Each operation is one action in its capability (``customers.bulk``, and
``segments.actions.change_members`` for a static list), so one request is one
transaction; this module only picks the action and names the field a request lacks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from tenure.customers import bulk
from tenure.errors import InvalidInput
from tenure.identity.permissions import Actor
from tenure.segments import actions as segment_actions
from tenure.segments.models import Segment, SegmentKind
from tenure.validation import NoNul, StrictRowId
from tenure.web.deps import ApiWriter, SessionDep

router = APIRouter(prefix="/people", tags=["people"])

BulkOp = Literal["assign_owner", "add_tag", "remove_tag", "add_to_list", "delete"]
OP_LABELS: dict[str, str] = {
    "assign_owner": "Assign owner",
    "add_tag": "Add tag",
    "remove_tag": "Remove tag",
    "add_to_list": "Add to list",
    "delete": "Delete",
}


class BulkRequest(BaseModel):
    """The people (``ids``) and what to do with them; each operation reads its own field."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[StrictRowId], Field(max_length=bulk.MAX_PEOPLE)] = Field(
        description=f"The people, at most {bulk.MAX_PEOPLE}."
    )
    op: BulkOp
    owner_id: StrictRowId | None = Field(
        None, description="assign_owner: the new owner (null: nobody)."
    )
    tag: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul] | None = (
        Field(None, description="add_tag, remove_tag: the tag's name.")
    )
    segment_id: StrictRowId | None = Field(None, description="add_to_list: a static list's id.")


class BulkOut(BaseModel):
    op: BulkOp
    requested: int = Field(description="People named in ids.")
    changed: int = Field(description="People the operation changed (a tag already there is none).")


def _static_list(session: Session, segment_id: int | None) -> int:
    segment = session.get(Segment, segment_id) if segment_id is not None else None
    if segment is None or segment.kind != SegmentKind.static:
        raise InvalidInput("segment_id", "choose a static list (segments of kind static)")
    return segment.id


def run_bulk(session: Session, request: BulkRequest, actor: Actor) -> BulkOut:
    """Run one bulk operation through its action (committed there)."""
    ids = request.ids
    result: bulk.BulkResult
    if request.op == "assign_owner":
        result = bulk.assign_owner(session=session, ids=ids, owner_id=request.owner_id, actor=actor)
    elif request.op in ("add_tag", "remove_tag"):
        if not request.tag:
            raise InvalidInput("tag", "name the tag")
        write = bulk.add_tag if request.op == "add_tag" else bulk.remove_tag
        result = write(session=session, ids=ids, tag=request.tag, actor=actor)
    elif request.op == "add_to_list":
        segment_id = _static_list(session, request.segment_id)
        people = bulk.selected_people(session, ids)
        change = segment_actions.change_members(
            session=session, segment_id=segment_id, add=[p.id for p in people], actor=actor
        )
        result = bulk.BulkResult(len(people), change.entered)
    else:
        result = bulk.delete_people(session=session, ids=ids, actor=actor)
    return BulkOut(op=request.op, requested=result.requested, changed=result.changed)


@router.post("/bulk", response_model=BulkOut)
def bulk_people(body: BulkRequest, session: SessionDep, actor: ApiWriter) -> BulkOut:
    """Assign an owner, add or remove a tag, add to a static list, or delete many people
    in one transaction (each person audited)."""
    return run_bulk(session, body, actor)
