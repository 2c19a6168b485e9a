"""Mapping domain errors to HTTP: 422 names the field, 404 unknown ids, 409 conflicts.

Under ``/api`` every error is JSON; a page gets an HTML page in the app's layout (with the
navigation when someone is logged in), never a bare JSON body.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenure.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenure.web.body_limits import BodyTooLarge, too_large_response
from tenure.web.deps import NotAuthenticated


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in {
        "/api",
        "/openapi.json",
    }


def field_in_words(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "first_name")`` -> "First name": how a page names a form field."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    if names and names[0] in {"body", "query", "path", "header", "cookie"}:
        names = names[1:]
    if not names:
        return "The form"
    return names[-1].replace("_", " ").strip().capitalize()


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


# How long a client should wait before trying again after a busy database (seconds).
RETRY_AFTER_SECONDS = 5
BUSY_MESSAGE = (
    "The database is busy with other writes and this request waited too long for its turn; "
    "nothing was changed. Try again in a few seconds."
)
# SQLite's messages once the busy timeout runs out; PostgreSQL's SQLSTATEs for a lock
# not available, a statement cancelled by its timeout, a deadlock and a serialization
# failure: each means "another transaction was in the way", never bad input.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_POSTGRES_BUSY = frozenset({"55P03", "57014", "40P01", "40001"})


def is_busy(exc: OperationalError) -> bool:
    """The database refused because other work held it, so the same request may succeed."""
    if getattr(exc.orig, "sqlstate", None) in _POSTGRES_BUSY:
        return True
    message = str(exc.orig).lower()
    return any(text in message for text in _SQLITE_BUSY)


def _page_error(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    *,
    problems: list[str] | None = None,
) -> Response:
    # Imported here: templating imports the page registry, which imports the pages.
    from tenure.web.pages.context import error_page_context
    from tenure.web.templating import render

    return render(
        request,
        "error.html",
        status_code=status_code,
        title=title,
        message=message,
        problems=problems or [],
        ctx=error_page_context(request),
    )


def _forbidden_message(request: Request, exc: PermissionDenied) -> str:
    """Say why, which roles the action needs, in words, and who the actor is."""
    from tenure.web.pages.context import error_page_context

    reason = str(exc)[:1].upper() + str(exc)[1:] + "."
    if exc.roles is None:
        return reason
    names = sorted(exc.roles)
    needed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    context = error_page_context(request)
    who = f" You are logged in as {context.actor.role.value}." if context else ""
    # "requires role admin" says no more than the sentence below: say it once.
    said = "" if reason.lower().startswith("requires role") else reason + " "
    return f"{said}This needs the role {needed}.{who} Ask an admin if you need it."


_HTTP_PAGES = {
    404: ("Page not found", "There is no page at this address."),
    405: ("Not possible here", "This address does not accept that kind of request."),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if (
            not _is_api(request)
            and request.method in ("GET", "HEAD")
            and all(e["loc"][:1] == ("path",) for e in exc.errors())
        ):
            # GET /people/abc: a mistyped address, not a form to correct.
            title, text = _HTTP_PAGES[404]
            return _page_error(request, 404, title, text)
        if not _is_api(request):
            # A page form sent without a required field (a browser skipping `required`,
            # a script): name the fields in words, never show the JSON.
            problems = [
                f"{field_in_words(e['loc'])}: "
                + ("this is required" if e["type"] == "missing" else str(e["msg"]))
                for e in exc.errors()
            ]
            return _page_error(
                request,
                422,
                "Some fields need attention",
                "Nothing was saved. Go back, correct these fields and send the form again.",
                problems=problems,
            )
        errors = [
            {"field": _field(e["loc"]), "reason": str(e["msg"]).removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid_input", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own answers (405, a body FastAPI could not parse, ...) in the envelope.
        if not _is_api(request):
            if exc.status_code in _HTTP_PAGES:
                title, message = _HTTP_PAGES[exc.status_code]
                page = _page_error(request, exc.status_code, title, message)
                page.headers.update(exc.headers or {})
                return page
            return await http_exception_handler(request, exc)
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        # PostgreSQL refuses NUL characters in text ("cannot contain NUL (0x00) bytes");
        # anything else the database refuses as data is a server bug, not the client's.
        if "NUL" not in str(exc.orig):
            raise exc
        reason = "text must not contain NUL (\\u0000) characters"
        if not _is_api(request):
            return _page_error(request, 422, "That did not work", reason.capitalize() + ".")
        body = {"error": "invalid_input", "errors": [{"field": "body", "reason": reason}]}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        if not is_busy(exc):
            raise exc
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if not _is_api(request):
            page = _page_error(request, 503, "Busy, try again", BUSY_MESSAGE)
            page.headers.update(headers)
            return page
        body = {"error": "database_busy", "message": BUSY_MESSAGE}
        return JSONResponse(body, status_code=503, headers=headers)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return too_large_response(exc)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, exc: InvalidInput) -> Response:
        if not _is_api(request):
            return _page_error(request, 422, "That did not work", str(exc))
        body = {"error": "invalid_input", "errors": [{"field": exc.field, "reason": exc.reason}]}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        if not _is_api(request):
            return _page_error(request, 404, "Not found", str(exc).capitalize() + ".")
        return JSONResponse({"error": "not_found", "message": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> Response:
        if not _is_api(request):
            return _page_error(request, 409, "Conflict", str(exc))
        body = {"error": "conflict", "message": str(exc), "field": exc.field}
        return JSONResponse(body, status_code=409)

    @app.exception_handler(PermissionDenied)
    async def _forbidden(request: Request, exc: PermissionDenied) -> Response:
        if not _is_api(request):
            return _page_error(request, 403, "Not allowed", _forbidden_message(request, exc))
        return JSONResponse({"error": "forbidden", "message": str(exc)}, status_code=403)

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "unauthenticated", "message": str(exc)},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception and re-raises it after this answer is sent.
        if _is_api(request):
            body = {"error": "internal_error", "message": "the server failed; it is logged"}
            return JSONResponse(body, status_code=500)
        return _page_error(
            request,
            500,
            "Something went wrong",
            "The server failed on this page; the error is logged. Nothing you did caused "
            "it. Try again, or go back.",
        )
