"""Query parameters and the response shape shared by every keyset-paged list."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from tenure.db.search import SEARCH_MAX_CHARS

T = TypeVar("T")

CursorParam = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
SearchParam = Annotated[
    str | None,
    Query(
        max_length=SEARCH_MAX_CHARS,
        description=f"Substring to look for (at most {SEARCH_MAX_CHARS} characters; "
        "% and _ match themselves).",
    ),
]
LimitParam = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")]


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
