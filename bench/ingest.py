"""Event ingestion throughput on SQLite.

Compares, in one run and on the same rows:
  * baseline: raw ``sqlite3.executemany`` into the same events table (with its indexes);
  * the HTTP batch API (``POST /api/v1/events``, 10,000 events a request, idempotency
    check included) served by ``tenure serve``;
  * ``tenure events import`` (the JSON-lines path, chunks of 5,000).
Target (foundation issue): at least 50,000 events/s over HTTP.

    .venv/bin/python bench/ingest.py [--events 200000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, served

from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_api_token, create_user

BATCH = 10_000
PEOPLE = 10_000


def make_events(count: int, tag: str) -> list[dict]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "type": "order" if n % 4 == 0 else "visit",
            "occurred_at": (start + timedelta(seconds=n)).isoformat(),
            "source": "bench",
            "client_event_id": f"{tag}-{n}",
            "channel": "web",
            "person_id": 1 + n % PEOPLE,
            **({"amount_minor": 1999, "currency": "USD"} if n % 4 == 0 else {}),
        }
        for n in range(count)
    ]


def prepare(path: Path) -> tuple[str, str]:
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) VALUES ('P', 'Q', '{}', 'p q', '2026-01-01 00:00:00.000000', "
            "'2026-01-01 00:00:00.000000')"
        )
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO people (first_name, last_name, attributes, search_text, created_at, "
            "updated_at) SELECT 'P', 'Q', '{}', 'p q', '2026-01-01 00:00:00.000000', "
            "'2026-01-01 00:00:00.000000' FROM n",
            (PEOPLE,),
        )
    with unit_of_work(make_session_factory(engine)) as session:
        create_user(session=session, email="bench@example.com", role="admin", password=None)
        _, token = create_api_token(session=session, email="bench@example.com", scope="write")
    engine.dispose()
    return url, token


def bench_raw(path: Path, events: list[dict]) -> float:
    rows = [
        (
            e["person_id"],
            e["occurred_at"].replace("T", " ").replace("+00:00", ".000000"),
            "2026-01-01 00:00:00.000000",
            e["type"],
            e["channel"],
            e["source"],
            e["client_event_id"],
            e.get("amount_minor"),
            e.get("currency"),
            "{}",
        )
        for e in events
    ]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO events (person_id, occurred_at, received_at, type, channel, source, "
        "client_event_id, amount_minor, currency, payload) VALUES (?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def bench_http(url: str, token: str, events: list[dict]) -> tuple[float, float]:
    bodies = [orjson.dumps(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with served(url) as base, httpx.Client(base_url=base, timeout=120) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post("/api/v1/events", content=body, headers=headers)
            assert response.status_code == 200, response.text[:500]
            assert response.json()["stored"] == BATCH
        fresh = len(events) / (time.perf_counter() - started)
        started = time.perf_counter()
        for body in bodies:  # every event again: all duplicates
            response = http.post("/api/v1/events", content=body, headers=headers)
            assert len(response.json()["duplicates"]) == BATCH
        repeat = len(events) / (time.perf_counter() - started)
    return fresh, repeat


def bench_jsonl(url: str, events: list[dict], directory: Path) -> float:
    path = directory / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tenure.cli.main", "events", "import", str(path)],
        env={"TENURE_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    count = args.events - args.events % BATCH or BATCH
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        prepare(directory / "raw.db")
        raw = bench_raw(directory / "raw.db", make_events(count, "raw"))
        http_url, token = prepare(directory / "http.db")
        fresh, repeat = bench_http(http_url, token, make_events(count, "http"))
        jsonl_url, _ = prepare(directory / "jsonl.db")
        jsonl = bench_jsonl(jsonl_url, make_events(count, "jsonl"), directory)
    report(
        f"Event ingestion on SQLite, {count:,} events (batches of {BATCH:,})",
        [
            ("raw sqlite3.executemany (baseline)", f"{raw:,.0f} events/s", "1.00x"),
            ("HTTP POST /api/v1/events, new", f"{fresh:,.0f} events/s", f"{fresh / raw:.2f}x"),
            (
                "HTTP POST /api/v1/events, repeats",
                f"{repeat:,.0f} events/s",
                f"{repeat / raw:.2f}x",
            ),
            ("tenure events import (JSONL)", f"{jsonl:,.0f} events/s", f"{jsonl / raw:.2f}x"),
        ],
    )
    verdict = "meets" if fresh >= 50_000 else "MISSES"
    print(f"\n  target: >= 50,000 events/s over HTTP -> {verdict} ({fresh:,.0f})")


if __name__ == "__main__":
    main()
