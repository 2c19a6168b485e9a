"""The outbox says why in words ("Mailbox unknown (550 5.1.1)"), the raw reply on demand."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tenure.messaging.actions import queue_email
from tenure.messaging.models import Message
from tenure.messaging.reasons import short_reason
from tests.conftest import make_api_user
from tests.messaging.conftest import add_person
from tests.pages import log_in

BOUNCE = "hard bounce, address suppressed: 550 5.1.1 <nobody@example.org>: user unknown"


@pytest.mark.parametrize(
    ("reason", "short"),
    [
        (BOUNCE, "Mailbox unknown (550 5.1.1); address suppressed"),
        ("hard bounce: 550-5.1.1 The email account does not exist", "Mailbox unknown (550 5.1.1)"),
        ("refused: 550 5.7.1 Message rejected as spam", "Refused by policy (550 5.7.1)"),
        ("refused: 552 5.2.2 Over quota", "Mailbox full (552 5.2.2)"),
        ("refused: 554 Transaction failed", "Transaction failed (554)"),
        (
            "451 4.3.0 Try again later (attempt 2, will retry)",
            "Server error, try later (451 4.3.0); will retry (attempt 2)",
        ),
        (
            "could not connect or log in to the SMTP server: [Errno 111] Connection refused "
            "(attempt 1, will retry)",
            "SMTP server unreachable; will retry (attempt 1)",
        ),
        ("gave up: 421 4.7.0 Too many connections", "Gave up: Deferred by policy (421 4.7.0)"),
        # Already words: shown as they are
        (
            "no consent: email marketing consent withdrawn",
            "no consent: email marketing consent withdrawn",
        ),
        ("sending limit: 1 emails per minute", "sending limit: 1 emails per minute"),
        (None, ""),
    ],
)
def test_short_reasons(reason: str | None, short: str) -> None:
    assert short_reason(reason) == short


def test_the_outbox_shows_the_short_reason_and_the_raw_reply_on_demand(session, client):
    analyst = make_api_user(session, "analyst")
    person = add_person(session, "nobody@example.org")
    session.commit()
    queue_email(
        session,
        actor=None,
        person_id=person,
        subject="Receipt",
        html="",
        text="Thanks",
        purpose="transactional",
    )
    session.execute(update(Message).values(status="failed", reason=BOUNCE))
    session.commit()
    message_id = session.scalar(select(Message.id))
    log_in(client, analyst.email, "correct horse 1")
    for page in (client.get("/messages"), client.get(f"/messages/{message_id}")):
        assert page.status_code == 200
        summary = page.text.split('<details class="raw-reason">')[1].split("</details>")[0]
        assert ">Mailbox unknown (550 5.1.1); address suppressed</summary>" in summary
        assert "550 5.1.1 &lt;nobody@example.org&gt;: user unknown</span>" in summary
