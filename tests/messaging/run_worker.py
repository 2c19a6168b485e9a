"""A worker process for the crash tests: ``python run_worker.py DATABASE_URL SMTP_PORT``.

Runs ``tenure.jobs.worker.Worker`` with every task registered (``tenure.all_tasks``), a
2-second lease, sending to the test's SMTP server on loopback, until SIGTERM.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tenure.all_tasks  # noqa: F401  (registers messaging.send_email)
from tenure.db.engine import create_db_engine
from tenure.jobs.worker import Worker
from tenure.registrations import register_all
from tests.messaging.conftest import mail_settings


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    register_all()
    worker = Worker(
        engine=create_db_engine(url),
        settings=mail_settings(url, port),
        concurrency=1,
        lease_seconds=2,
        poll_seconds=0.1,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()


if __name__ == "__main__":
    main()
