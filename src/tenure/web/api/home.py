"""Home and Find: the dashboard's data and the global search, as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tenure.db.search import SEARCH_MAX_CHARS
from tenure.find.search import MAX_PER_GROUP, search
from tenure.home.dashboard import Scope, home, resolve_scope
from tenure.web.deps import ApiActor, SessionDep, SettingsDep

router = APIRouter(tags=["home"])


@router.get("/home")
def get_home(
    session: SessionDep,
    actor: ApiActor,
    scope: Annotated[
        Scope | None,
        Query(description="mine (your book) or everyone (admins and managers; their default)"),
    ] = None,
) -> dict[str, Any]:
    """The Home dashboard: open tasks due (``tasks``: counts per bucket, the overdue and
    due-today ones), customers at or above the alert threshold by value at risk
    (``at_risk``), the latest events of the book's people in words (``activity``; segment
    entries and stage changes left out) and the book's KPIs (``kpis``: ``customers``,
    ``revenue`` of the last 30 days vs the 30 before per currency, ``predicted_clv_12m``
    (sum of the stored 12-month CLV), ``churn`` (mean churn probability of the scored book
    and the share at or above the alert threshold)). Money in minor units. Dates judged
    by the workspace clock (``today``)."""
    return home(session, actor, resolve_scope(actor, scope))


@router.get("/search")
def global_search(
    session: SessionDep,
    actor: ApiActor,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=SEARCH_MAX_CHARS,
            description="A name, email, phone (any format), organization or segment name",
        ),
    ],
    limit: Annotated[
        int, Query(ge=1, le=MAX_PER_GROUP, description="At most this many per group")
    ] = 5,
) -> dict[str, Any]:
    """People (by name, email, or phone in any format, read in the workspace's default
    phone region), organizations (name, domain) and segments (name) matching ``q``, each
    group best first, with the page to open (``url``). 422 for a blank or too long ``q``."""
    return search(session, q, region=settings.default_phone_region, limit=limit)
