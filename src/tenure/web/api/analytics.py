"""Analytics: KPIs for a period, the model reports, and the data behind the charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.scores import queries
from tenure.scores.kpis import Period, period_kpis
from tenure.scores.schemas import KpisOut
from tenure.web.deps import ApiActor, SessionDep, SettingsDep
from tenure.workspace import clock
from tenure.workspace.settings import currency

router = APIRouter(prefix="/analytics", tags=["analytics"])

DEFAULT_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 366 * 20


def resolve_period(session: Session, start: date | None, end: date | None) -> Period:
    """The requested period; by default the 90 days up to the last refresh (or today)."""
    if end is None:
        overview = queries.score_overview(session)
        end = overview["as_of"].date() if overview else clock.now(session).date()
    if start is None:
        start = end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise InvalidInput("from", "must not be after to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("from", f"periods longer than {MAX_PERIOD_DAYS} days are refused")
    return Period(start, end)


def kpis_for(session: Session, settings: Settings, period: Period) -> dict[str, Any]:
    return period_kpis(
        session,
        period,
        churn_inactivity_days=settings.churn_inactivity_days,
        churn_event_type=settings.churn_event_type,
    )


@router.get("/kpis", response_model=KpisOut, response_model_by_alias=True)
def get_kpis(
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiActor,
    start: Annotated[
        date | None, Query(alias="from", description="First day of the period (YYYY-MM-DD, UTC).")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last day of the period, included.")
    ] = None,
) -> dict[str, Any]:
    """KPIs of the period as PRODUCT.md defines them (see ``tenure.scores.kpis``).

    Money is in minor units of the workspace currency; rates are fractions (0.25 = 25%);
    NPS, CSAT and CES are null without survey answers, CAC, ROI and CLV:CAC without
    ``acquisition_spend`` events.
    """
    period = resolve_period(session, start, end)
    return {**kpis_for(session, settings, period), "currency": currency(session, settings)}


@router.get("/models")
def get_models(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """The newest report of each model: parameters, fit, backtest and churn accuracy."""
    return {"items": queries.latest_reports(session)}


@router.get("/charts")
def get_charts(session: SessionDep, actor: ApiActor) -> dict[str, Any]:
    """Data of the analytics page's charts (CLV histogram, P(alive) grid, cohorts...)."""
    return chart_data(session)


def chart_data(session: Session) -> dict[str, Any]:
    reports = {r["model"]: r for r in queries.latest_reports(session)}
    bgnbd = reports.get("bgnbd")
    churn = reports.get("churn")
    return {
        "overview": queries.score_overview(session),
        "segments": queries.segment_counts(session),
        "clv_histogram": queries.clv_histogram(session),
        "p_alive": queries.p_alive_grid(session),
        "cohorts": queries.cohort_table(session),
        "backtest": (bgnbd or {}).get("metrics", {}).get("backtest"),
        "churn_calibration": (churn or {}).get("metrics", {}).get("calibration_table"),
    }
