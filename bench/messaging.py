"""Email through Tenure's job path against a bare smtplib loop, into aiosmtpd on loopback.

    .venv/bin/python bench/messaging.py [--messages 2000] [--memory-at 10000]

One SQLite workspace in a temporary directory gets ``--messages`` people (an email and a
marketing consent each) and one queued transactional email per person (``stage_email``,
committed in chunks of 1,000; not timed). Then, in the same run:

- Tenure: one worker slot (``tenure.jobs.worker.Worker``) drains the queue: per message a
  job claimed under a lease, the send-time checks (suppression, consent, fatigue, quiet
  hours, limits), the MIME message, the SMTP transaction on the slot's kept connection,
  the row marked sent and an ``email_sent`` event appended (with the event pipeline's
  reactions), all committed with the job's completion;
- bare, twice: the same number of messages sent by ``smtplib`` over one connection,
  nothing recorded anywhere: ``send_message`` of prebuilt ``EmailMessage`` objects (the
  baseline the target was set against: smtplib flattens each one), and ``sendmail`` of
  prebuilt bytes (the SMTP dialogue alone: the strictest floor).

The server (aiosmtpd, in this process's thread) counts messages without keeping them.
Prints messages/s of each and the ratios (target: within 2x), and the process's
resident memory (VmRSS) sampled every half second during the drain: at ``--memory-at``
messages sent (default a tenth of the run), at the end, and the peak (VmHWM) of the
drain. The ratio of the end to the sample at ``--memory-at`` is the growth over the
messages between: flat memory means the drain holds nothing per message.
"""

from __future__ import annotations

import argparse
import smtplib
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tenure.all_models
import tenure.all_tasks  # noqa: F401
from tenure.config import Settings
from tenure.customers.models import ConsentRecord, Identity, Person
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory
from tenure.db.types import utcnow
from tenure.jobs.worker import Worker
from tenure.messaging.actions import stage_email
from tenure.messaging.smtp import close_connections
from tenure.registrations import register_all
from tests.messaging.smtp_server import free_port

CHUNK = 1_000


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 2.0.0 Ok: queued"


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def rss_mb() -> float:
    return _status_mb("VmRSS")


def reset_peak() -> None:
    """Start VmHWM (the peak resident memory) from now (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


@dataclass
class Drain:
    rate: float
    samples: list[tuple[int, float]]
    peak_mb: float
    end_mb: float
    parts: list[tuple[int, float, float]]

    def at(self, sent: int) -> tuple[int, float]:
        """The first sample with at least ``sent`` messages sent."""
        return next(((s, mb) for s, mb in self.samples if s >= sent), (0, self.end_mb))


def prepare(url: str, n: int, settings: Settings) -> None:
    engine = create_db_engine(url)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    since = utcnow() - timedelta(days=30)
    for start in range(0, n, CHUNK):
        with factory() as session:
            people = [
                Person(first_name="P", last_name=str(i))
                for i in range(start, min(n, start + CHUNK))
            ]
            session.add_all(people)
            session.flush()
            for person in people:
                address = f"p{person.id}@example.org"
                session.add(
                    Identity(
                        person_id=person.id,
                        kind="email",
                        namespace="",
                        value=address,
                        original=address,
                        is_primary=True,
                    )
                )
                session.add(
                    ConsentRecord(
                        person_id=person.id,
                        channel="email",
                        purpose="marketing",
                        status="granted",
                        source="bench",
                        recorded_at=since,
                    )
                )
            session.flush()
            for person in people:
                stage_email(
                    session,
                    person_id=person.id,
                    subject="Your order has shipped",
                    html="<p>Hello, your order is on its way.</p>",
                    text="Hello, your order is on its way.",
                    purpose="transactional",
                    from_address=settings.mail_from,
                )
            session.commit()
    engine.dispose()


def drain(url: str, settings: Settings, n: int) -> Drain:
    engine = create_db_engine(url)
    worker = Worker(engine=engine, settings=settings, concurrency=1, poll_seconds=0.01)
    samples: list[tuple[int, float]] = []
    # Anonymous memory (Python's heap, SQLite's page caches) and file-backed pages (the
    # database file mapped by SQLite's mmap_size: it grows with the file, up to 256 MB).
    parts: list[tuple[int, float, float]] = []
    done = threading.Event()

    def sample() -> None:
        with engine.connect() as connection:
            from sqlalchemy import text

            while not done.wait(0.5):
                sent = (
                    connection.execute(
                        text("SELECT count(*) FROM messages WHERE status = 'sent'")
                    ).scalar()
                    or 0
                )
                connection.rollback()
                samples.append((int(sent), rss_mb()))
                parts.append((int(sent), _status_mb("RssAnon"), _status_mb("RssFile")))

    sampler = threading.Thread(target=sample, daemon=True)
    reset_peak()
    sampler.start()
    started = time.perf_counter()
    worker.run(until_empty=True)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    engine.dispose()
    return Drain(n / elapsed, samples, _status_mb("VmHWM"), rss_mb(), parts)


def bare(port: int, n: int) -> tuple[float, float]:
    """(send_message of prebuilt EmailMessage objects, sendmail of prebuilt bytes)."""
    messages = []
    for i in range(n):
        message = EmailMessage()
        message["From"] = "Shop <shop@example.com>"
        message["To"] = f"p{i}@example.org"
        message["Subject"] = "Your order has shipped"
        message["Message-ID"] = f"<{i}.bench@example.com>"
        message.set_content("Hello, your order is on its way.")
        message.add_alternative("<p>Hello, your order is on its way.</p>", subtype="html")
        messages.append(message)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for message in messages:
            client.send_message(message)
    objects = n / (time.perf_counter() - started)
    prebuilt = [(str(m["To"]), m.as_bytes(policy=SMTP)) for m in messages]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for to, data in prebuilt:
            client.sendmail("shop@example.com", [to], data)
    return objects, n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--memory-at", type=int, default=0)
    # A memory run (100k) needs no bare loops: they take as long again on a shared machine.
    parser.add_argument("--no-bare", action="store_true")
    args = parser.parse_args()
    n = args.messages
    memory_at = args.memory_at or n // 10
    register_all()
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            settings = Settings(
                database_url=url,
                secret_key="b" * 40,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_tls="none",
                mail_from="Shop <shop@example.com>",
                quiet_hours_start=None,
                quiet_hours_end=None,
                send_limit_per_minute=0,
                send_limit_per_hour=0,
            )
            t0 = time.perf_counter()
            prepare(url, n, settings)
            print(f"queued {n:,} messages in {time.perf_counter() - t0:.1f} s (not timed below)")
            drained = drain(url, settings, n)
            close_connections()
            delivered = counter.count
            objects_rate, bytes_rate = (0.0, 0.0) if args.no_bare else bare(port, n)
    finally:
        controller.stop()
    rate = drained.rate
    print(f"delivered by Tenure: {delivered:,} of {n:,}")
    print(f"Tenure job path                     : {rate:8.0f} messages/s")
    print(f"bare smtplib, send_message(objects) : {objects_rate:8.0f} messages/s")
    print(f"bare smtplib, sendmail(bytes)       : {bytes_rate:8.0f} messages/s")
    if args.no_bare:
        print("bare loops skipped (--no-bare)")
    else:
        print(
            f"ratio bare/Tenure: {objects_rate / rate:.2f}x against send_message, "
            f"{bytes_rate / rate:.2f}x against prebuilt bytes (target within 2x)"
        )
    sent_at, at_mb = drained.at(memory_at)
    print(
        f"resident memory during the drain: {at_mb:.0f} MB at {sent_at:,} sent, "
        f"{drained.end_mb:.0f} MB at {n:,}, peak {drained.peak_mb:.0f} MB; "
        f"end/at-{sent_at:,} ratio {drained.end_mb / at_mb:.3f}"
    )
    curve = drained.samples[:: max(1, len(drained.samples) // 10)]
    print("RSS curve (sent, MB):", ", ".join(f"({s:,}, {mb:.0f})" for s, mb in curve))
    split = drained.parts[:: max(1, len(drained.parts) // 10)]
    print(
        "of which anonymous / file-backed (sent, MB):",
        ", ".join(f"({s:,}, {anon:.0f} / {file:.0f})" for s, anon, file in split),
    )


if __name__ == "__main__":
    main()
