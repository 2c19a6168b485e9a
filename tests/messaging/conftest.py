"""An SMTP server on loopback, a committed-to database with a customer, and a worker run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import ConsentRecord, Identity, Person
from tenure.db.engine import create_db_engine
from tenure.db.types import utcnow
from tenure.jobs.worker import Worker
from tests.conftest import TEST_SECRET
from tests.messaging.smtp_server import Collector, free_port

PUBLIC_URL = "https://crm.example.com"


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    """aiosmtpd on 127.0.0.1, collecting every accepted envelope."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def mail_settings(url: str, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "secret_key": TEST_SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "mail_from": "Corner Shop <shop@example.com>",
        "mail_reply_to": "help@example.com",
        "public_url": PUBLIC_URL,
        # Real time decides quiet hours: tests that want them set them around now.
        "quiet_hours_start": None,
        "quiet_hours_end": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def mail_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_database_url)
    yield engine
    engine.dispose()


def add_person(
    session: Session,
    email: str,
    *,
    first_name: str = "Ada",
    marketing: str | None = "granted",
    attributes: dict | None = None,
    consented_at: datetime | None = None,
) -> int:
    person = Person(first_name=first_name, last_name="Lovelace", attributes=attributes or {})
    session.add(person)
    session.flush()
    session.add(
        Identity(
            person_id=person.id,
            kind="email",
            namespace="",
            value=email,
            original=email,
            is_primary=True,
        )
    )
    if marketing is not None:
        session.add(
            ConsentRecord(
                person_id=person.id,
                channel="email",
                purpose="marketing",
                status=marketing,
                source="test",
                recorded_at=consented_at or utcnow() - timedelta(days=1),
            )
        )
    session.flush()
    return person.id


@dataclass
class Runner:
    engine: Engine
    settings: Settings

    def run(self) -> Worker:
        """Run every due job to the end, like a worker would."""
        worker = Worker(
            engine=self.engine, settings=self.settings, concurrency=1, poll_seconds=0.05
        )
        worker.run(until_empty=True)
        return worker
