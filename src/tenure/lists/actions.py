"""Saving, changing and deleting list views (one transaction each, audited, committed).

A view of one's own is a preference, like a password: every role saves them, read-only
roles included. Sharing one puts it in everyone's menu, so it takes a role that writes
(``VIEW_SHARERS``); only the owner, or an admin, changes or deletes a shared view.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.errors import Conflict, InvalidInput, PermissionDenied
from tenure.identity.audit import audit_changed, audit_created, audit_deleted
from tenure.identity.models import Role
from tenure.identity.permissions import (
    VIEW_SHARERS,
    Actor,
    authorize,
    authorize_own_account,
)
from tenure.lists.columns import parse_columns, parse_sort
from tenure.lists.models import SavedView
from tenure.lists.queries import View
from tenure.lists.views import LISTS, filters_to_json, get_view

MAX_NAME = 100


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("name", "name the view")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"must have at most {MAX_NAME} characters")
    return name


def _fields(view: SavedView) -> dict[str, Any]:
    return {
        "name": view.name,
        "shared": view.shared,
        "filters": view.filters,
        "columns": view.columns,
        "sort": view.sort,
    }


def _authorize(actor: Actor, shared: bool) -> int | None:
    return authorize(actor, VIEW_SHARERS) if shared else authorize_own_account(actor)


def save_view(
    *,
    session: Session,
    actor: Actor,
    name: str,
    view: View,
    shared: bool = False,
    list_name: str = "people",
) -> SavedView:
    """Save ``view`` under ``name`` (the owner's names are unique per list: 409 on ``name``)."""
    actor_id = _authorize(actor, shared)
    if list_name not in LISTS:
        raise InvalidInput("list", f"must be one of {', '.join(LISTS)}")
    name = _clean_name(name)
    taken = session.scalar(
        select(SavedView.id).where(
            SavedView.owner_id == actor.user_id,
            SavedView.list_name == list_name,
            SavedView.name == name,
        )
    )
    if taken is not None:
        raise Conflict(f"you have a view named {name!r} already", field="name")
    saved = SavedView(
        owner_id=actor.user_id,
        list_name=list_name,
        name=name,
        shared=shared,
        filters=filters_to_json(view.filters),
        columns=list(view.columns),
        sort=view.sort.param,
    )
    session.add(saved)
    session.flush()
    audit_created(
        session=session,
        actor_id=actor_id,
        entity_type="saved_view",
        entity_id=saved.id,
        fields=_fields(saved),
    )
    session.commit()
    return saved


def _own_view(session: Session, actor: Actor, view_id: int) -> SavedView:
    saved = get_view(session, actor, view_id)
    if saved.owner_id != actor.user_id and actor.role != Role.admin:
        raise PermissionDenied("only its owner or an admin changes a shared view")
    return saved


def update_view(
    *,
    session: Session,
    actor: Actor,
    view_id: int,
    name: str | None = None,
    shared: bool | None = None,
    columns: list[str] | None = None,
    sort: str | None = None,
) -> SavedView:
    saved = _own_view(session, actor, view_id)
    actor_id = _authorize(actor, bool(shared if shared is not None else saved.shared))
    before = _fields(saved)
    if name is not None:
        saved.name = _clean_name(name)
    if shared is not None:
        saved.shared = shared
    if columns is not None:
        saved.columns = parse_columns(columns)
    if sort is not None:
        saved.sort = parse_sort(sort).param
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="saved_view",
        entity_id=saved.id,
        before=before,
        after=_fields(saved),
    )
    session.commit()
    return saved


def delete_view(*, session: Session, actor: Actor, view_id: int) -> None:
    saved = _own_view(session, actor, view_id)
    actor_id = _authorize(actor, saved.shared)
    audit_deleted(
        session=session,
        actor_id=actor_id,
        entity_type="saved_view",
        entity_id=saved.id,
        fields=_fields(saved),
    )
    session.delete(saved)
    session.commit()
