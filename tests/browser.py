"""Helpers for browser tests: a real uvicorn server on loopback and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from tenure.config import Settings
from tenure.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_chromium() -> None:
    if not shutil.which(CHROMIUM):
        if os.environ.get("TENURE_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("Debian's chromium is required (TENURE_TEST_REQUIRE_BROWSER=1)")
        pytest.skip("Debian's chromium is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(database_url: str, *, run_jobs: bool = False) -> Iterator[str]:
    """Serve Tenure on a free loopback port in a thread; yields the base URL.

    ``run_jobs`` runs the embedded job worker, as ``tenure serve`` does.
    """
    settings = Settings(
        database_url=database_url, secret_key="browser-test-secret-0123456789abcdef"
    )
    port = _free_port()
    app = create_app(settings, run_jobs=run_jobs)
    lifespan = "on" if run_jobs else "off"
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def log_in(page: Any, url: str, email: str, password: str) -> None:
    """Open ``url`` (the login page, or a page that asks for it) and log in."""
    page.goto(url)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
