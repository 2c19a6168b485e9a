"""Reading saved views: the menu of a user (their own and the shared ones), and a saved
view back as a ``View`` to list or export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tenure.customers.queries import PeopleFilter
from tenure.errors import NotFound
from tenure.identity.permissions import Actor
from tenure.lists.columns import parse_columns, parse_sort
from tenure.lists.models import SavedView
from tenure.lists.queries import View

LISTS = ("people",)


def filters_to_json(filters: PeopleFilter) -> dict[str, Any]:
    return {"q": filters.q, "tag": filters.tag, "owner_id": filters.owner_id}


def filters_from_json(data: dict[str, Any]) -> PeopleFilter:
    owner = data.get("owner_id")
    return PeopleFilter(
        q=data.get("q") or None,
        tag=data.get("tag") or None,
        owner_id=int(owner) if isinstance(owner, int) else None,
    )


def visible_views(session: Session, actor: Actor, list_name: str = "people") -> list[SavedView]:
    """The actor's own views and those shared with the workspace, by name."""
    return list(
        session.scalars(
            select(SavedView)
            .where(
                SavedView.list_name == list_name,
                or_(SavedView.owner_id == actor.user_id, SavedView.shared.is_(True)),
            )
            .order_by(SavedView.name, SavedView.id)
        )
    )


def get_view(session: Session, actor: Actor, view_id: int) -> SavedView:
    """A view the actor may see (theirs or shared); another's private view is a 404."""
    saved = session.get(SavedView, view_id)
    if saved is None or not (saved.shared or saved.owner_id == actor.user_id):
        raise NotFound("view", view_id)
    return saved


def as_view(saved: SavedView) -> View:
    return View(
        filters=filters_from_json(saved.filters or {}),
        columns=parse_columns(saved.columns),
        sort=parse_sort(saved.sort),
    )
