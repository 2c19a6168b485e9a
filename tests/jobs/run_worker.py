"""A worker process for the crash and concurrency tests: ``python run_worker.py URL ...``.

Runs ``tenure.jobs.worker.Worker`` with the test handlers until SIGTERM, or until the
queue is empty with ``--until-empty``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.jobs.worker import Worker
from tests.jobs import handlers  # noqa: F401  (registers the test tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--lease", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--poll", type=float, default=0.2)
    parser.add_argument("--until-empty", action="store_true")
    parser.add_argument("--grace", type=float, default=10)
    args = parser.parse_args()
    settings = Settings(database_url=args.url, secret_key="x" * 40)
    worker = Worker(
        engine=create_db_engine(args.url),
        settings=settings,
        concurrency=args.concurrency,
        lease_seconds=args.lease,
        poll_seconds=args.poll,
        grace_seconds=args.grace,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run(until_empty=args.until_empty)
    print(f"completed {worker.completed} failed {worker.failed}", flush=True)


if __name__ == "__main__":
    main()
