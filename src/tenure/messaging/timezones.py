"""A person's time zone for quiet hours: their ``time_zone`` attribute, else the main zone
of their country, else the workspace's (its time zone setting, ``workspace.settings.time_zone``)."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenure.customers.normalize import NormalizationError, normalize_country

#: Countries spanning several zones whose first ``zone.tab`` line is not where most people
#: live (zone.tab lists zones by position, e.g. AU starts with Lord Howe Island).
MAIN_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
    "KI": "Pacific/Tarawa",
    "UM": "Pacific/Honolulu",
}


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, str]:
    """ISO country code -> its main zone: ``MAIN_ZONES``, else the first zone IANA lists
    for it in ``zone.tab`` (shipped by the ``tzdata`` package; US -> America/New_York)."""
    text = (importlib.resources.files("tzdata.zoneinfo") / "zone.tab").read_text()
    zones: dict[str, str] = dict(MAIN_ZONES)
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _, zone = line.split("\t")[:3]
        zones.setdefault(code.upper(), zone)
    return zones


def _zone(name: Any) -> ZoneInfo | None:
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of_country(country: Any) -> ZoneInfo | None:
    if not isinstance(country, str) or not country.strip():
        return None
    try:
        code = normalize_country(country).alpha2
    except NormalizationError:
        return None
    return _zone(_country_zones().get(code))


def person_zone(attributes: dict[str, Any] | None, workspace_zone: str) -> ZoneInfo:
    attributes = attributes or {}
    return (
        _zone(attributes.get("time_zone"))
        or zone_of_country(attributes.get("country"))
        or ZoneInfo(workspace_zone)
    )
