"""Query parameters and the response shape shared by every keyset-paged list."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

CursorParam = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
LimitParam = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")]


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
