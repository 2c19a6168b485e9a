"""Pydantic types shared at the edge of every capability: ids, money, currencies, text.

Every text the API takes refuses NUL characters (``NoNul``, part of ``LineText`` and
``LongText`` and of every other text field of an input model): PostgreSQL cannot store
them in text columns while SQLite stores them, so the two databases answered differently.

Every id the API takes (path, query or body) is a ``RowId``: the database stores 64-bit
signed integers, so anything from 2**63 up used to reach the driver and fail with a 500
(issue 9). Bodies use the strict variants: ``1200.0``, ``"1200"`` and ``true`` are not
amounts or ids in JSON, while path and query values arrive as text and are parsed.
"""

from __future__ import annotations

from typing import Annotated, Any

import pycountry
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

MAX_BIGINT = 2**63 - 1

# Strings a person types on one line (names, titles, sources, attribute values) and texts
# (notes, descriptions, event payload strings). Fixed, like column widths, not settings.
LINE_MAX_CHARS = 1000
TEXT_MAX_CHARS = 100_000

RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
StrictRowId = Annotated[int, Strict(), Field(ge=1, le=MAX_BIGINT)]
MinorAmount = Annotated[
    int, Strict(), Field(ge=-MAX_BIGINT, le=MAX_BIGINT, description="Minor units (cents).")
]
NUL_REASON = "must not contain NUL (\\u0000) characters"


def refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_REASON)
    return value


def refuse_nul_in_text(value: Any) -> Any:
    """``refuse_nul`` for a value that may be text or not (before a union of types, so the
    error names the field once instead of once per member of the union)."""
    return refuse_nul(value) if isinstance(value, str) else value


#: Add to any ``Annotated[str, ...]`` the API takes: a text holding NUL is a 422 on its field.
NoNul = AfterValidator(refuse_nul)
#: The same for a union holding text (attribute values: text, number, date, ...).
NoNulBefore = BeforeValidator(refuse_nul_in_text)

LineText = Annotated[str, StringConstraints(max_length=LINE_MAX_CHARS), NoNul]
LongText = Annotated[str, StringConstraints(max_length=TEXT_MAX_CHARS), NoNul]

ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)


def check_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(check_currency),
    Field(description="ISO 4217 code, e.g. USD."),
]


def fits_bigint(value: int) -> bool:
    return -MAX_BIGINT - 1 <= value <= MAX_BIGINT


def parse_whole_number(text: str | None) -> int | None:
    """The whole number (0 and up, 64-bit) a form field holds, or None when it holds none.

    ASCII digits only: ``str.isdigit`` also takes "²", which ``int()`` then refuses.
    """
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_BIGINT else None


def parse_row_id(text: str | None) -> int | None:
    """The id a form or query string holds, or None when it holds none that could exist."""
    number = parse_whole_number(text)
    return number if number is not None and number >= 1 else None


_json_adapter: TypeAdapter[Any] = TypeAdapter(Any)


def parse_json(raw: bytes | str) -> Any:
    """``raw`` parsed; ValueError says why not.

    pydantic-core's parser, not orjson: orjson reads an integer beyond 64 bits as a float,
    so 2**70 would be stored rounded instead of refused by the 64-bit checks.
    """
    try:
        return _json_adapter.validate_json(raw)
    except ValidationError as error:
        raise ValueError(error.errors(include_url=False)[0]["msg"]) from None
