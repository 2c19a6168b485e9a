"""The analytics page: KPI tiles for a period and the charts of the last score refresh."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from tenure.errors import InvalidInput
from tenure.scores import queries
from tenure.web.api.analytics import chart_data, kpis_for, resolve_period
from tenure.web.deps import SessionDep, SettingsDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render
from tenure.workspace.settings import currency

router = APIRouter(include_in_schema=False)


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "is not a date (YYYY-MM-DD)")


@router.get("/analytics")
def analytics_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: PageCtx,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    period = resolve_period(session, _day(start, "from"), _day(end, "to"))
    kpis = kpis_for(session, settings, period)
    charts: dict[str, Any] = jsonable_encoder(chart_data(session))
    return render(
        request,
        "analytics/index.html",
        ctx=ctx,
        period=period,
        kpis=kpis,
        currency=currency(session, settings),
        charts=charts,
        reports=queries.latest_reports(session),
        settings=settings,
    )
