"""Mapping domain errors to HTTP: 422 names the field, 404 unknown ids, 409 conflicts."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenure.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenure.web.body_limits import BodyTooLarge, too_large_response
from tenure.web.deps import NotAuthenticated


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _page_error(request: Request, status_code: int, title: str, message: str) -> Response:
    from tenure.web.templating import render

    return render(request, "error.html", status_code=status_code, title=title, message=message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": _field(e["loc"]), "reason": str(e["msg"]).removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid_input", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own answers (405, a body FastAPI could not parse, ...) in the envelope.
        if not _is_api(request):
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
            return _page_error(request, 403, "Not allowed", str(exc))
        return JSONResponse({"error": "forbidden", "message": str(exc)}, status_code=403)

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"error": "unauthenticated", "message": str(exc)},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
