"""Jinja2 templates, with the filters and globals every page uses."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from tenure.identity import permissions
from tenure.messaging.reasons import short_reason
from tenure.web.pages.registry import NAV
from tenure.web.security import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)

# Minor units per major unit for the currencies whose exponent is not 2 (ISO 4217).
CURRENCY_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3}


def format_money(amount_minor: int | None, currency: str | None) -> str:
    if amount_minor is None:
        return ""
    exponent = CURRENCY_EXPONENTS.get(currency or "", 2)
    major = Decimal(amount_minor).scaleb(-exponent)
    return f"{major:,.{exponent}f} {currency or ''}".strip()


#: The time zone of the page being rendered: the workspace's (``render`` sets it), so every
#: date a page shows, and every day it names, is the workspace's, not the server's or UTC.
page_zone: ContextVar[tzinfo] = ContextVar("page_zone", default=UTC)


def local(value: datetime) -> datetime:
    """An instant in the page's time zone (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(page_zone.get())


def format_datetime(value: date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``dt``: an instant in the workspace's time zone; a plain date (a birthday, a cohort
    month) is a calendar day in no zone and shows as it is."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime(fmt)


def format_day(value: date | None) -> str:
    """``day``: "30 Jun 1998" (no leading zero), in the workspace's time zone."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return f"{value.day} {value.strftime('%b %Y')}"


def days_before_today(days: int | None) -> str:
    """``days_before_today``: "today", "1 day before today", "12 days before today"."""
    if days is None:
        return ""
    if days == 0:
        return "today"
    return f"{days:,} day{'' if days == 1 else 's'} before today"


templates.env.filters["money"] = format_money
templates.env.filters["days_before_today"] = days_before_today
templates.env.filters["dt"] = format_datetime
templates.env.filters["day"] = format_day
templates.env.filters["short_reason"] = short_reason
templates.env.globals["nav"] = NAV
# The role sets of identity.permissions, for ``ctx.may(roles.DUPLICATE_RESOLVERS)``.
templates.env.globals["roles"] = permissions


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("csrf_token", csrf_token(request))
    context.setdefault("workspace", getattr(request.state, "workspace", None))
    zone = ZoneInfo(getattr(context["workspace"], "time_zone", None) or "UTC")
    # TemplateResponse renders at once, so the zone holds for exactly this page.
    token = page_zone.set(zone)
    try:
        return templates.TemplateResponse(request, name, context, status_code=status_code)
    finally:
        page_zone.reset(token)
