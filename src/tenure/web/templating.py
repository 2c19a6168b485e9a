"""Jinja2 templates, with the filters and globals every page uses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

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


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) if value else ""


templates.env.filters["money"] = format_money
templates.env.filters["dt"] = format_datetime
templates.env.filters["short_reason"] = short_reason
templates.env.globals["nav"] = NAV
# The role sets of identity.permissions, for ``ctx.may(roles.DUPLICATE_RESOLVERS)``.
templates.env.globals["roles"] = permissions


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("csrf_token", csrf_token(request))
    context.setdefault("workspace", getattr(request.state, "workspace", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)
