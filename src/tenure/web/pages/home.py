"""Home (``/``, the dashboard) and Find (``/search``, the full results of the top bar's box)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from tenure.errors import InvalidInput
from tenure.find.search import search
from tenure.home.dashboard import Scope, home, oversees_books, resolve_scope
from tenure.web.deps import PageActor, SessionDep, SettingsDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

#: The top bar's suggestions per group (as GET /api/v1/search's default).
SUGGESTIONS_PER_GROUP = 5
#: The full results page lists more of each group than the box's suggestions.
RESULTS_PER_GROUP = 25


@router.get("/")
def home_page(
    request: Request, session: SessionDep, ctx: PageCtx, scope: str | None = None
) -> Response:
    try:
        wanted = Scope(scope) if scope else None
    except ValueError:
        raise InvalidInput("scope", "is mine or everyone")
    chosen = resolve_scope(ctx.actor, wanted)
    return render(
        request,
        "home/index.html",
        ctx=ctx,
        data=home(session, ctx.actor, chosen),
        oversees=oversees_books(ctx.actor),
    )


@router.get("/search")
def search_page(
    request: Request, session: SessionDep, settings: SettingsDep, ctx: PageCtx, q: str = ""
) -> Response:
    results = (
        search(session, q, region=settings.default_phone_region, limit=RESULTS_PER_GROUP)
        if q.strip()
        else None
    )
    return render(request, "home/search.html", ctx=ctx, q=q.strip(), results=results)


@router.get("/search/suggest")
def search_suggestions(
    session: SessionDep, settings: SettingsDep, actor: PageActor, q: str = ""
) -> Response:
    """The top bar's results as you type: GET /api/v1/search's answer, for the logged-in
    page (the API takes a bearer token, which a page's script does not hold)."""
    found = search(session, q, region=settings.default_phone_region, limit=SUGGESTIONS_PER_GROUP)
    return JSONResponse(jsonable_encoder(found))
