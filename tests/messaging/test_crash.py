"""A worker killed -9 in the middle of sending, on both backends (issue 14's "done when").

Killed after its claim and before the SMTP DATA command: once the lease expires another
worker sends the message, and it is delivered once. Killed after the server accepted the
message but before the row was marked sent: the retry sends it again, with the same
Message-ID, so the receiving side recognises the repeat.

The SMTP server's own hooks pick the moment: the first RCPT kills the worker (no DATA was
sent), or the first DATA stops the worker (SIGSTOP) before the server answers 250, so it
cannot commit, and the test kills it once the server holds the message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from tenure.jobs.models import Job
from tenure.messaging.models import Message
from tests.messaging.conftest import Runner, mail_settings
from tests.messaging.test_sending import _message, _person, _queue

RUN_WORKER = Path(__file__).with_name("run_worker.py")


def _start_worker(url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(RUN_WORKER), url, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _job(engine, message_id):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(
            select(Job.state, Job.attempts, Job.idempotency_key).where(
                Job.payload["message_id"].as_integer() == message_id
            )
        ).one()


def _crash_and_recover(mail_engine, smtp, fresh_database_url, *, at: str):  # type: ignore[no-untyped-def]
    collector, port = smtp
    settings = mail_settings(fresh_database_url, port)
    person = _person(mail_engine, "ada@example.org")
    message_id = _queue(mail_engine, settings, person)
    worker = _start_worker(fresh_database_url, port)
    killed: list[bool] = []

    def kill_before_data(address: str) -> None:
        if not killed:
            killed.append(True)
            os.kill(worker.pid, signal.SIGKILL)

    def stop_after_acceptance() -> None:
        if not killed:
            killed.append(True)
            os.kill(worker.pid, signal.SIGSTOP)  # the 250 will never be read

    if at == "before_data":
        collector.on_rcpt = kill_before_data
    else:
        collector.on_data = stop_after_acceptance
    try:
        _wait_for(lambda: bool(killed), 60, "the worker to reach the SMTP server")
        if at == "after_acceptance":
            _wait_for(lambda: len(collector.received) == 1, 30, "the server to accept it")
            worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
        worker.wait()
    # The killed attempt committed nothing: the message is still queued, its job running
    assert _message(mail_engine, message_id).status == "queued"
    assert _job(mail_engine, message_id).state == "running"
    collector.on_rcpt = collector.on_data = None

    # Another worker takes the job over once the lease (2 s) has expired
    time.sleep(2.5)
    Runner(mail_engine, settings).run()

    row = _message(mail_engine, message_id)
    job = _job(mail_engine, message_id)
    assert (row.status, job.state, job.attempts) == ("sent", "succeeded", 2)
    return collector, row


def test_killed_before_data_the_message_is_delivered_once(
    mail_engine, smtp, fresh_database_url
) -> None:
    collector, row = _crash_and_recover(mail_engine, smtp, fresh_database_url, at="before_data")
    assert collector.message_ids() == [row.message_id_header]


def test_killed_after_the_server_accepted_the_resend_carries_the_same_message_id(
    mail_engine, smtp, fresh_database_url
) -> None:
    collector, row = _crash_and_recover(
        mail_engine, smtp, fresh_database_url, at="after_acceptance"
    )
    assert collector.message_ids() == [row.message_id_header, row.message_id_header]
    first, second = collector.received
    assert first.message["Subject"] == second.message["Subject"] == "Your order"
    with mail_engine.connect() as connection:
        assert connection.scalar(select(Message.attempts).where(Message.id == row.id)) == 2
