"""Checking custom attribute values against the workspace's declared types."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import AttributeDefinition, AttributeType
from tenure.errors import InvalidInput
from tenure.validation import LINE_MAX_CHARS, fits_bigint

# vCard writes a birthday without a year as --MM-DD.
_YEARLESS_BIRTHDAY = re.compile(r"^--(\d{2})-(\d{2})$")
# A calendar date, extended or basic form (no week or ordinal dates, no times).
_CALENDAR_DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")


def check_birthday(text: str) -> str:
    """``text`` as a birthday (YYYY-MM-DD, or --MM-DD without a year); ValueError says why.

    ISO 8601's basic form YYYYMMDD, common in exports (FEBRL's date_of_birth), is accepted
    and stored as YYYY-MM-DD."""
    value = text.strip()
    yearless = _YEARLESS_BIRTHDAY.match(value)
    try:
        if yearless:
            # 2000 is a leap year, so --02-29 passes.
            date(2000, int(yearless.group(1)), int(yearless.group(2)))
            return value
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD, or --MM-DD without a year)")
    if not (1900 <= day.year <= 2100) or not _CALENDAR_DATE.match(value):
        raise ValueError(f"{text!r} is not a birthday between 1900 and 2100 (YYYY-MM-DD)")
    return day.isoformat()


# Built-in attributes the importers fill: declared as text, but checked for their meaning.
BUILTIN_CHECKS = {"birthday": check_birthday}


def declared_attributes(session: Session, entity: str) -> dict[str, AttributeDefinition]:
    rows = session.scalars(select(AttributeDefinition).where(AttributeDefinition.entity == entity))
    return {row.key: row for row in rows}


def coerce_attribute(definition: AttributeDefinition, value: Any, field: str) -> Any:
    """The JSON-storable value of ``value`` for ``definition``, or InvalidInput."""
    kind = AttributeType(definition.type)
    if kind == AttributeType.text:
        if not isinstance(value, str):
            raise InvalidInput(field, "must be text")
        if len(value) > LINE_MAX_CHARS:
            raise InvalidInput(field, f"is longer than {LINE_MAX_CHARS} characters")
        check = BUILTIN_CHECKS.get(definition.key)
        if check is not None:
            try:
                return check(value)
            except ValueError as error:
                raise InvalidInput(field, str(error))
        return value
    if kind == AttributeType.number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(field, "must be a number")
        if isinstance(value, int) and not fits_bigint(value):
            raise InvalidInput(field, "must be a number within 64 bits (at most 2**63 - 1)")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(field, "must be a finite number")
        return value
    if kind == AttributeType.boolean:
        if not isinstance(value, bool):
            raise InvalidInput(field, "must be true or false")
        return value
    if kind == AttributeType.date:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise InvalidInput(field, "must be a date (YYYY-MM-DD)")
    choices = definition.choices or []
    if value not in choices:
        raise InvalidInput(field, f"must be one of {', '.join(choices)}")
    return value


def merge_attributes(
    *,
    session: Session,
    entity: str,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    """``current`` updated with ``changes``; a None value removes the attribute."""
    declared = declared_attributes(session, entity)
    merged = dict(current)
    for key, value in changes.items():
        field = f"attributes.{key}"
        if key not in declared:
            raise InvalidInput(field, "is not a declared attribute (POST /api/v1/attributes)")
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = coerce_attribute(declared[key], value, field)
    return merged
