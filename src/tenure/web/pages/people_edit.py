"""Creating, editing and deleting a person in the web app.

A new person passes the duplicate check at the door first (``dedup.actions.create_person``
with ``on_duplicate="reject"``): probable duplicates come back with their evidence in
words, and the person chooses to open the existing one or to create anyway (then the
pair is queued for review, as the API does). A refused form comes back as it was typed,
its error named in the form's words. Each write is one action; handlers commit nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tenure.customers import people, queries
from tenure.dedup import actions as dedup_actions
from tenure.errors import Conflict, InvalidInput, PermissionDenied
from tenure.identity.permissions import may
from tenure.validation import RowId
from tenure.web.deps import PageWriter, PostedForm, SessionDep, SettingsDep, write_now
from tenure.web.pages.context import PageContext, PageCtx
from tenure.web.pages.people import NOTICE, PERSON_NOTICE, render_person
from tenure.web.pages.person_form import (
    FormError,
    PersonForm,
    form_choices,
    person_attributes,
)
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)


def _new_page(
    request: Request,
    session: SessionDep,
    ctx: PageContext,
    form: PersonForm,
    *,
    error: FormError | None = None,
    duplicates: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "people/new.html",
        status_code=status_code,
        ctx=ctx,
        form=form,
        error=error,
        duplicates=duplicates or [],
        **form_choices(session),
    )


def _refusal(error: InvalidInput | Conflict) -> tuple[str, str]:
    """The API field and the reason of a refused write."""
    if isinstance(error, InvalidInput):
        return error.field, error.reason
    return error.field or "identities", str(error)


@router.get("/people/new")
def new_person(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    if not may(ctx.actor):
        raise PermissionDenied(f"role {ctx.actor.role.value} is read-only")
    return _new_page(request, session, ctx, PersonForm())


@router.post("/people/new")
def create_person(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    ctx: PageCtx,
    settings: SettingsDep,
    submitted: PostedForm,
) -> Response:
    form = PersonForm.from_form(submitted)
    definitions = person_attributes(session)
    create_anyway = submitted.get("create_anyway") == "1"
    try:
        data = form.to_create(definitions)
        admission = write_now(
            session,
            lambda: dedup_actions.create_person(
                session=session,
                data=data,
                actor=actor,
                default_region=settings.default_phone_region,
                on_duplicate="create" if create_anyway else "reject",
            ),
        )
    except (InvalidInput, Conflict) as refused:
        error = form.error(*_refusal(refused), definitions)
        return _new_page(request, session, ctx, form, error=error, status_code=422)
    if admission.person is None:
        return _new_page(
            request, session, ctx, form, duplicates=admission.possible_duplicates, status_code=409
        )
    request.session[PERSON_NOTICE] = f"Created {_name(admission.person)}."
    return RedirectResponse(f"/people/{admission.person.id}", status_code=303)


@router.post("/people/{person_id}/edit")
def edit_person(
    request: Request,
    person_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    ctx: PageCtx,
    settings: SettingsDep,
    submitted: PostedForm,
) -> Response:
    current = queries.get_person(session, person_id)
    # Social handles and external ids are not on the form: they stay as they are.
    others = [i for i in current["identities"] if i["kind"] not in ("email", "phone")]
    form = PersonForm.from_form(submitted, others)
    definitions = person_attributes(session)
    try:
        people.update_person(
            session=session,
            person_id=person_id,
            data=form.to_update(definitions),
            actor=actor,
            default_region=settings.default_phone_region,
        )
    except (InvalidInput, Conflict) as refused:
        session.rollback()
        error = form.error(*_refusal(refused), definitions)
        return render_person(
            request, session, ctx, current, edit=form, error=error, status_code=422
        )
    request.session[PERSON_NOTICE] = "Changes saved."
    return RedirectResponse(f"/people/{person_id}", status_code=303)


def _name(person: Any) -> str:
    return f"{person.first_name or ''} {person.last_name or ''}".strip() or f"person {person.id}"


@router.post("/people/{person_id}/delete")
def delete_person(
    request: Request, person_id: RowId, session: SessionDep, actor: PageWriter
) -> Response:
    person = queries.get_person(session, person_id)
    name = f"{person['first_name']} {person['last_name']}".strip() or f"person {person_id}"
    people.delete_person(session=session, person_id=person_id, actor=actor)
    request.session[NOTICE] = f"Deleted {name}."
    return RedirectResponse("/people", status_code=303)
