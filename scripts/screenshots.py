"""Screenshots of the main pages at desktop and phone width, so anyone can look.

    python scripts/screenshots.py [--database URL] [--out screenshots] [--email E]

Builds the demo workspace into ``.tmp/screenshots-demo.db`` when no database is given
(``tenure init --demo-if-empty``: a minute or so the first time, reused after), serves it
on a free loopback port in this process, logs in with Debian's Chromium and writes
``<page>-1280.png`` and ``<page>-390.png`` (full pages) into the output folder.
``make screenshots`` runs it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = ROOT / ".tmp" / "screenshots-demo.db"
CHROMIUM = "/usr/bin/chromium"
WIDTHS = {1280: 900, 390: 844}
DEMO_EMAIL = "admin@demo.tenure.dev"
DEMO_PASSWORD = "tenure-demo"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_demo(path: Path) -> str:
    url = f"sqlite:///{path}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building the demo workspace in {path} (once)")
    # Also applies new migrations to a database built by an older version.
    env = {**os.environ, "TENURE_DATABASE_URL": url}
    command = [sys.executable, "-m", "tenure.cli.main", "init", "--demo-if-empty"]
    subprocess.run(command, env=env, check=True, cwd=ROOT)
    return url


@contextmanager
def _serving(database_url: str) -> Iterator[str]:
    import uvicorn

    from tenure.config import Settings
    from tenure.web.app import create_app

    app = create_app(Settings(database_url=database_url))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def _a_person(database_url: str) -> int:
    """A customer with an open task and orders: the person page shows most of its cards."""
    from sqlalchemy import func, select

    from tenure.customers.models import Person, Task
    from tenure.db.engine import create_db_engine
    from tenure.db.session import make_session_factory

    engine = create_db_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            person_id = session.scalar(
                select(Task.person_id)
                .where(Task.person_id.is_not(None), Task.done_at.is_(None))
                .order_by(Task.id)
                .limit(1)
            )
            return int(person_id or session.scalar(select(func.min(Person.id))) or 1)
    finally:
        engine.dispose()


def take(database_url: str, out: Path, email: str, password: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "home": "/",
        "person": f"/people/{_a_person(database_url)}",
        "tasks": "/tasks?assignee=all",  # everyone's: the demo admin has no task of their own
        "people": "/people",
        "analytics": "/analytics",
    }
    written = []
    with _serving(database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for width, height in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(base + "/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for name, path in pages.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                target = out / f"{name}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
                print(f"{target}  ({page.url.removeprefix(base)})")
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="database URL (default: the demo, built once)")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--email", default=DEMO_EMAIL, help="log in as (default: demo admin)")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: make chromium")
    url = args.database or _ensure_demo(DEFAULT_DATABASE)
    take(url, args.out, args.email, args.password)


if __name__ == "__main__":
    main()
