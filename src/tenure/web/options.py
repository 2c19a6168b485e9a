"""OPTIONS on any route answers 204 with ``Allow``: the methods the path takes.

Without it, OPTIONS answered 405 (no route declares it), which tells a client nothing.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class AllowOnOptions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        # Mounts (static files) match every method: they answer OPTIONS themselves.
        routes = [r for r in scope["app"].router.routes if not isinstance(r, Mount)]
        # Included routers nest (FastAPI 0.165), so ask each method rather than walk them.
        methods = {
            method
            for method in METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)
        }
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", allow.encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
