"""The workspace's own settings (currency, time zone, phone region, name): validation and
the values every capability reads, falling back to the server's defaults.

Read them here rather than from ``Settings``: ``TENURE_DEFAULT_CURRENCY`` and
``TENURE_DEFAULT_PHONE_REGION`` are only the defaults a workspace starts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.validation import ISO_4217
from tenure.workspace.queries import get_workspace

DEFAULT_TIME_ZONE = "UTC"


@dataclass(frozen=True)
class WorkspaceSettings:
    name: str
    default_currency: str
    time_zone: str
    phone_region: str


def workspace_settings(session: Session, settings: Settings) -> WorkspaceSettings:
    workspace = get_workspace(session)
    return WorkspaceSettings(
        name=workspace.name,
        default_currency=workspace.default_currency or settings.default_currency,
        time_zone=workspace.time_zone or DEFAULT_TIME_ZONE,
        phone_region=workspace.phone_region or settings.default_phone_region.upper(),
    )


def phone_region(session: Session, settings: Settings) -> str:
    """The region phone numbers written without ``+country`` are read in."""
    return get_workspace(session).phone_region or settings.default_phone_region.upper()


def currency(session: Session, settings: Settings) -> str:
    """The currency of amounts given without one, and of the workspace's totals."""
    return get_workspace(session).default_currency or settings.default_currency


def time_zone(session: Session) -> ZoneInfo:
    """The workspace's time zone (dates are shown and days begin in it)."""
    return ZoneInfo(get_workspace(session).time_zone or DEFAULT_TIME_ZONE)


def clean_currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217:
        raise InvalidInput("default_currency", f"{value!r} is not an ISO 4217 currency code")
    return code


def clean_time_zone(value: str) -> str:
    name = value.strip()
    # available_timezones() rejects paths and odd spellings ZoneInfo() alone might load.
    if name not in available_timezones() and name != "UTC":
        raise InvalidInput("time_zone", f"{value!r} is not an IANA time zone (e.g. Europe/Paris)")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("time_zone", f"{value!r} is not an IANA time zone (e.g. Europe/Paris)")
    return name


def clean_phone_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            "phone_region", f"{value!r} is not a two-letter country code with phone numbers"
        )
    return region


def clean_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise InvalidInput("name", "the workspace needs a name")
    if len(name) > 200:
        raise InvalidInput("name", "must have at most 200 characters")
    return name
