"""Shared helpers for benchmarks: a served Tenure, timing and reporting."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def served(database_url: str, *, workers: int = 1) -> Iterator[str]:
    """Run `tenure serve` in a subprocess; yields its base URL."""
    port = free_port()
    env = dict(os.environ, TENURE_DATABASE_URL=database_url)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tenure.cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            # Measure the server alone: no nightly chain computing in the background.
            "--no-jobs",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        while True:
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def report(title: str, rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{title}")
    print("-" * len(title))
    for name, figure, ratio in rows:
        print(f"  {name:<{width}}  {figure:>22}  {ratio}")
