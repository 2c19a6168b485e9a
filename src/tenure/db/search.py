"""Substring search with LIKE: wildcards escaped, patterns of a bounded length.

SQLite refuses a LIKE pattern over 50,000 bytes ("LIKE or GLOB pattern too complex"), which
a long `q` reached as a 500 (issue 9); no one searches a name with more than a few words,
so a search is capped well below that and refused as a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from tenure.errors import InvalidInput

SEARCH_MAX_CHARS = 200
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '\\': ``%`` and ``_`` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substring_pattern(needle: str, *, field: str = "q") -> str:
    """The LIKE pattern matching values that contain ``needle`` literally."""
    if len(needle) > SEARCH_MAX_CHARS:
        raise InvalidInput(field, f"is longer than {SEARCH_MAX_CHARS} characters")
    return f"%{escape_like(needle)}%"


def contains_text(column: Any, needle: str, *, field: str = "q", fold_case: bool = False) -> Any:
    """A predicate: ``column`` contains ``needle`` literally (``ILIKE`` when ``fold_case``)."""
    pattern = substring_pattern(needle, field=field)
    if fold_case:
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return column.like(pattern, escape=LIKE_ESCAPE)
