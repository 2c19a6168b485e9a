"""NUL characters refused in every query, path and form parameter, by name.

Bodies are checked by their models (``validation.NoNul``); parameters arrive as separate
strings in many routes, so one dependency on every router checks them all: PostgreSQL
refuses NUL in text (a search for ``a\\x00b`` failed there) while SQLite took it, so the
same request answered differently on the two databases.
"""

from __future__ import annotations

from fastapi import Request

from tenure.errors import InvalidInput
from tenure.validation import NUL_REASON

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_nul_parameters(request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(name, NUL_REASON)
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise InvalidInput(name.replace("\x00", ""), NUL_REASON)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(_FORM_TYPES):
        return
    # Starlette caches the parsed form: the route's Form() and File() read the same one.
    form = await request.form()
    for name, value in form.multi_items():
        if isinstance(value, str) and ("\x00" in value or "\x00" in name):
            raise InvalidInput(name.replace("\x00", ""), NUL_REASON)
