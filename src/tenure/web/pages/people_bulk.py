"""The people list's bulk bar: the checked people, one operation, one action
(``web.api.people_bulk.run_bulk``, as the API runs it). Deleting asks first, naming how
many people and who."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tenure.customers import bulk, queries
from tenure.errors import InvalidInput
from tenure.segments.models import Segment
from tenure.web.api.people_bulk import BulkOut, BulkRequest, run_bulk
from tenure.web.deps import PageWriter, PostedForm, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.pages.people import NOTICE
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

FIELD_WORDS = {
    "ids": "People",
    "op": "Action",
    "owner_id": "Owner",
    "tag": "Tag",
    "segment_id": "List",
}


def _back(value: Any) -> str:
    """Where to return: the list as it was (its filters), never another site."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/people") and not text.startswith("//") else "/people"


def _request(form: Any) -> BulkRequest:
    op = form.get("op") or ""
    body: dict[str, Any] = {"ids": form.getlist("ids"), "op": op}
    if op == "assign_owner":
        owner = form.get("owner_id") or ""
        body["owner_id"] = int(owner) if owner.isdigit() else None
    elif op in ("add_tag", "remove_tag"):
        body["tag"] = form.get("tag") or ""
    elif op == "add_to_list":
        segment = form.get("segment_id") or ""
        body["segment_id"] = int(segment) if segment.isdigit() else None
    try:
        body["ids"] = [int(i) for i in body["ids"]]  # checkbox values: strings of digits
    except ValueError:
        raise InvalidInput("ids", "choose people from the list")
    try:
        return BulkRequest.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False)[0]
        raise InvalidInput(str(first["loc"][0]) if first["loc"] else "op", first["msg"])


def _in_words(error: InvalidInput) -> InvalidInput:
    return InvalidInput(FIELD_WORDS.get(error.field, error.field), error.reason)


def _notice(done: BulkOut, request: BulkRequest, names: dict[str, str]) -> str:
    people = f"{done.requested} {'person' if done.requested == 1 else 'people'}"
    unchanged = done.requested - done.changed
    tail = f" ({unchanged} already so)" if unchanged and done.op != "delete" else ""
    if done.op == "assign_owner":
        return f"Owner set to {names.get('owner') or 'nobody'} for {people}{tail}."
    if done.op == "add_tag":
        return f"Tag {request.tag} added to {people}{tail}."
    if done.op == "remove_tag":
        return f"Tag {request.tag} removed from {people}{tail}."
    if done.op == "add_to_list":
        return f"Added {people} to the list {names.get('list', '')}{tail}."
    return f"Deleted {people}."


@router.post("/people/bulk")
def bulk_people(
    request: Request, session: SessionDep, actor: PageWriter, ctx: PageCtx, form: PostedForm
) -> Response:
    back = _back(form.get("back"))
    try:
        wanted = _request(form)
        if wanted.op == "delete" and form.get("confirmed") != "1":
            chosen = bulk.selected_people(session, wanted.ids)
            return render(
                request,
                "people/bulk_confirm.html",
                ctx=ctx,
                people=chosen,
                back=back,
            )
        names = _names(session, wanted)
        done = run_bulk(session, wanted, actor)
    except InvalidInput as error:
        raise _in_words(error)
    request.session[NOTICE] = _notice(done, wanted, names)
    return RedirectResponse(back, status_code=303)


def _names(session: SessionDep, wanted: BulkRequest) -> dict[str, str]:
    """The owner's and the list's names for the notice."""
    names = {}
    if wanted.owner_id is not None:
        owner = {u.id: u for u in queries.list_owners(session)}.get(wanted.owner_id)
        names["owner"] = (owner.name or owner.email) if owner else ""
    if wanted.segment_id is not None:
        segment = session.get(Segment, wanted.segment_id)
        names["list"] = segment.name if segment else ""
    return names
