"""A worker process for the crash test: ``python run_worker.py DATABASE_URL``.

Every task registered (``tenure.all_tasks``), a 2-second lease, until SIGTERM or drained
with ``--until-empty``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tenure.all_tasks  # noqa: F401  (registers automation.advance)
from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.jobs.worker import Worker
from tenure.registrations import register_all
from tests.conftest import TEST_SECRET


def main() -> None:
    url = sys.argv[1]
    register_all()
    worker = Worker(
        engine=create_db_engine(url),
        settings=Settings(database_url=url, secret_key=TEST_SECRET),
        concurrency=1,
        lease_seconds=2,
        poll_seconds=0.1,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run(until_empty="--until-empty" in sys.argv)


if __name__ == "__main__":
    main()
