"""The largest request body each route takes, enforced while the body streams in.

Before (issue 9), a 200 MB body to /events cost ~200 MB of server memory before any check,
and an oversized upload was read whole and then answered 422. Here a body announced as too
big (Content-Length) is refused before a byte is read, and one that grows past the limit
while streaming (chunked, or a lying header) is refused at the chunk that crosses it: the
server holds at most the limit plus one chunk. The answer is 413 with the limit in it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenure.config import Settings

EVENTS_PATH = "/api/v1/events"
UPLOAD_PREFIXES = ("/api/v1/imports", "/imports")


class BodyTooLarge(HTTPException):
    """The request body passed the route's limit (HTTP 413)."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit, setting))
        self.limit = limit
        self.setting = setting


def too_large_message(limit: int, setting: str) -> str:
    return f"the request body is over the limit of {limit:,} bytes for this route ({setting})"


def too_large_response(error: BodyTooLarge) -> JSONResponse:
    body = {"error": "payload_too_large", "message": error.detail, "limit_bytes": error.limit}
    return JSONResponse(body, status_code=413)


def body_limit(settings: Settings, path: str) -> tuple[int, str]:
    """The route's limit in bytes and the setting that sets it."""
    if path == EVENTS_PATH:
        return settings.max_batch_bytes, "TENURE_MAX_BATCH_BYTES"
    if path.startswith(UPLOAD_PREFIXES):
        return settings.max_upload_bytes, "TENURE_MAX_UPLOAD_BYTES"
    return settings.max_body_bytes, "TENURE_MAX_BODY_BYTES"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Pure ASGI, so nothing buffers the body before the count."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = body_limit(self.settings, scope["path"])
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            await too_large_response(BodyTooLarge(limit, setting))(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, setting)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as error:
            # Raised where no exception handler sits (outside the routes): answer here.
            if started:
                raise
            await too_large_response(error)(scope, receive, send)
