"""What authentication and the middleware cost an API request, in process (no network).

The rungs of issue 16's cost ladder that authentication touches, each called straight
through ASGI, one request at a time, on a small SQLite database:

  * GET /ping on a bare FastAPI app (the ceiling);
  * GET /api/v1/people/0 without a token: every middleware, routing to the first API
    routes, the 401 (authentication runs before the id is validated);
  * the same with a bearer token: + the request's session and the token look-up, then
    the 422 on the id (no handler work: what authenticating costs);
  * the same with a login cookie sent along (the API must not decode it);
  * GET /api/v1/no-such-route: routing through every route, the 404 (FastAPI matches
    included routers one route at a time: the last routes pay for all the others).

    .venv/bin/python bench/auth.py [--requests 3000]

Prints microseconds per request and the ratio to the bare app, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bare_app import app as bare_app
from _common import report

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user
from tenure.web.app import create_app

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _per_request_us(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], n: int, expect: int
) -> float:
    for _ in range(50):  # warm: caches, prepared statements, the thread pool
        assert await _call(app, path, headers) == expect
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            await _call(app, path, headers)
        rounds.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return statistics.median(rounds)


async def _login_cookie(app: Any) -> bytes:
    """A real signed login cookie, from the login form."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        page = (await client.get("/login")).text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        await client.post(
            "/login",
            data={"email": "bench@example.com", "password": "bench-password", "csrf_token": csrf},
        )
        cookie = client.cookies.get("tenure_session")
    assert cookie, "login failed"
    return f"tenure_session={cookie}".encode()


async def main_async(requests: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'auth.db'}"
        engine = create_db_engine(url)
        upgrade_database(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            create_user(
                session=session, email="bench@example.com", role="admin", password="bench-password"
            )
            _, secret = create_api_token(session=session, email="bench@example.com", scope="read")
        app = create_app(Settings(database_url=url, secret_key=SECRET), engine)
        bearer = (b"authorization", f"Bearer {secret}".encode())
        cookie = (b"cookie", await _login_cookie(app))
        async with app.router.lifespan_context(app):
            bare = await _per_request_us(bare_app, "/ping", [], requests, 200)
            path = "/api/v1/people/0"
            no_token = await _per_request_us(app, path, [], requests, 401)
            token = await _per_request_us(app, path, [bearer], requests, 422)
            with_cookie = await _per_request_us(app, path, [bearer, cookie], requests, 422)
            unrouted = await _per_request_us(app, "/api/v1/no-such-route", [], requests, 404)
        engine.dispose()

    def row(name: str, us: float) -> tuple[str, str, str]:
        return (name, f"{us:,.0f} us/request", f"{us / bare:.1f}x bare")

    report(
        f"API request cost in process, SQLite, {requests:,} requests each (median of 5 rounds)",
        [
            row("bare FastAPI /ping", bare),
            row("/api/v1/people/0, no token (401)", no_token),
            row("/api/v1/people/0, bearer token (422)", token),
            row("/api/v1/people/0, bearer token + login cookie", with_cookie),
            row("/api/v1/no-such-route (404, every route)", unrouted),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(main_async(args.requests))


if __name__ == "__main__":
    main()
