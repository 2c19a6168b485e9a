"""Checking custom attribute values against the workspace's declared types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import AttributeDefinition, AttributeType
from tenure.errors import InvalidInput


def declared_attributes(session: Session, entity: str) -> dict[str, AttributeDefinition]:
    rows = session.scalars(select(AttributeDefinition).where(AttributeDefinition.entity == entity))
    return {row.key: row for row in rows}


def coerce_attribute(definition: AttributeDefinition, value: Any, field: str) -> Any:
    """The JSON-storable value of ``value`` for ``definition``, or InvalidInput."""
    kind = AttributeType(definition.type)
    if kind == AttributeType.text:
        if not isinstance(value, str):
            raise InvalidInput(field, "must be text")
        return value
    if kind == AttributeType.number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(field, "must be a number")
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
