"""Sending through a real SMTP server on loopback (aiosmtpd), as jobs, on both backends:
what arrives, what is skipped or deferred and why, bounces and retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from tenure.db.session import make_session_factory, unit_of_work
from tenure.jobs.models import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, Job
from tenure.messaging.actions import queue_email
from tenure.messaging.models import Message, Suppression
from tenure.messaging.sending import CAPTURED
from tenure.timeline.models import Event
from tests.messaging.conftest import PUBLIC_URL, Runner, add_person, mail_settings

HTML = '<html><body><p>Hello Ada</p><a href="https://shop.example.com/sale?a=1&amp;b=2">Sale</a></body></html>'


def _queue(engine, settings, person_id, purpose="transactional", subject="Your order", **kw):
    with unit_of_work(make_session_factory(engine)) as session:
        message = queue_email(
            session,
            actor=None,
            person_id=person_id,
            subject=subject,
            html=kw.get("html", ""),
            text=kw.get("text", "Thank you for your order."),
            purpose=purpose,
            settings=settings,
        )
        return message.id


def _message(engine, message_id) -> Message:
    with make_session_factory(engine)() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def _person(engine, email, **kw) -> int:
    with unit_of_work(make_session_factory(engine)) as session:
        return add_person(session, email, **kw)


def test_captured_email_is_recorded_as_sent_and_handed_to_no_server(mail_engine, smtp):
    """``TENURE_EMAIL_DELIVERY=capture`` (``make run``'s demo): the checks and composing run
    as ever, the server running on the configured port receives nothing."""
    collector, port = smtp
    url = str(mail_engine.url.render_as_string(hide_password=False))
    settings = mail_settings(url, port, email_delivery="capture")
    person = _person(mail_engine, "ada@example.org")
    withdrawn = _person(mail_engine, "bob@example.org", marketing="withdrawn")
    sent_id = _queue(mail_engine, settings, person)
    skipped_id = _queue(mail_engine, settings, withdrawn, purpose="marketing", subject="Sale")

    Runner(mail_engine, settings).run()

    assert collector.received == []
    row = _message(mail_engine, sent_id)
    assert (row.status, row.smtp_reply) == ("sent", CAPTURED)
    assert _message(mail_engine, skipped_id).status == "suppressed"
    with mail_engine.connect() as connection:
        events = connection.execute(
            select(Event.type, Event.person_id).where(Event.source == "messaging")
        ).all()
    assert [tuple(e) for e in events] == [("email_sent", person)]


def test_a_transactional_email_arrives_once_with_its_stable_message_id(mail_engine, smtp):
    collector, port = smtp
    settings = mail_settings(str(mail_engine.url.render_as_string(hide_password=False)), port)
    person = _person(mail_engine, "ada@example.org")
    message_id = _queue(mail_engine, settings, person)
    with mail_engine.connect() as connection:
        priority = connection.scalar(select(Job.priority).where(Job.task == "messaging.send_email"))
    assert priority == PRIORITY_TRANSACTIONAL

    Runner(mail_engine, settings).run()

    row = _message(mail_engine, message_id)
    assert (row.status, row.reason, row.attempts) == ("sent", None, 1)
    assert row.smtp_reply.startswith("250")
    [received] = collector.received
    assert received.rcpt_tos == ["ada@example.org"]
    assert received.mail_from == "shop@example.com"
    mime = received.message
    assert mime["Message-ID"] == row.message_id_header
    assert row.message_id_header.endswith("@example.com>")
    assert mime["Subject"] == "Your order"
    assert mime["Reply-To"] == "help@example.com"
    assert mime["List-Unsubscribe"] is None  # transactional mail carries none
    assert "Thank you for your order." in mime.get_body(("plain",)).get_content()
    with mail_engine.connect() as connection:
        sent = connection.execute(
            select(Event.type, Event.payload, Event.person_id).where(Event.source == "messaging")
        ).all()
    assert [(e.type, e.person_id) for e in sent] == [("email_sent", person)]
    assert sent[0].payload["subject"] == "Your order"
    assert sent[0].payload["url"] == f"/messages/{message_id}"


def test_a_marketing_email_carries_one_click_unsubscribe_and_tracked_links(mail_engine, smtp):
    collector, port = smtp
    settings = mail_settings(mail_engine.url.render_as_string(hide_password=False), port)
    person = _person(mail_engine, "ada@example.org")
    message_id = _queue(mail_engine, settings, person, "marketing", "Summer sale", html=HTML)
    with mail_engine.connect() as connection:
        priority = connection.scalar(select(Job.priority).where(Job.task == "messaging.send_email"))
    assert priority == PRIORITY_BULK

    Runner(mail_engine, settings).run()

    assert _message(mail_engine, message_id).status == "sent"
    mime = collector.received[0].message
    unsubscribe = str(mime["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith(f"<{PUBLIC_URL}/unsubscribe/")
    assert "<mailto:help@example.com?subject=unsubscribe>" in unsubscribe
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mime.get_body(("plain",)).get_content()
    assert text.rstrip().endswith(f"Unsubscribe: {unsubscribe.split('>')[0].lstrip('<')}")
    html = mime.get_body(("html",)).get_content()
    assert "https://shop.example.com/sale" not in html  # through the signed redirect
    assert f'href="{PUBLIC_URL}/e/c/' in html
    assert f'src="{PUBLIC_URL}/e/o/' in html and html.index("/e/o/") < html.index("</body>")


def test_consent_fatigue_and_suppressions_skip_with_the_reason(mail_engine, smtp):
    collector, port = smtp
    settings = mail_settings(
        mail_engine.url.render_as_string(hide_password=False), port, fatigue_max_marketing=2
    )
    ada = _person(mail_engine, "ada@example.org")
    never = _person(mail_engine, "never@example.org", marketing=None)
    withdrew = _person(mail_engine, "gone@example.org", marketing="withdrawn")
    blocked = _person(mail_engine, "blocked@example.org")
    with unit_of_work(make_session_factory(mail_engine)) as session:
        session.add(Suppression(address="blocked@example.org", reason="asked", source="manual"))
    first, second, third = (
        _queue(mail_engine, settings, ada, "marketing", f"Offer {i}") for i in (1, 2, 3)
    )
    receipt = _queue(mail_engine, settings, ada, "transactional", "Receipt")
    no_consent = _queue(mail_engine, settings, never, "marketing", "Offer")
    withdrawn = _queue(mail_engine, settings, withdrew, "marketing", "Offer")
    still_service = _queue(mail_engine, settings, withdrew, "transactional", "Receipt")
    suppressed = _queue(mail_engine, settings, blocked, "transactional", "Receipt")

    Runner(mail_engine, settings).run()

    def outcome(mid):
        row = _message(mail_engine, mid)
        return row.status, row.reason

    assert outcome(first) == ("sent", None) and outcome(second) == ("sent", None)
    status, reason = outcome(third)
    assert status == "suppressed" and reason.startswith("fatigue: 2 marketing emails")
    assert outcome(receipt) == ("sent", None)  # transactional mail is exempt from fatigue
    assert outcome(no_consent) == (
        "suppressed",
        "no consent: email marketing consent never given",
    )
    assert outcome(withdrawn) == ("suppressed", "no consent: email marketing consent withdrawn")
    assert outcome(still_service) == ("sent", None)
    assert outcome(suppressed) == ("suppressed", "address suppressed (manual): asked")
    assert sorted(r.rcpt_tos[0] for r in collector.received) == [
        "ada@example.org",
        "ada@example.org",
        "ada@example.org",
        "gone@example.org",
    ]


def test_quiet_hours_in_the_persons_zone_and_sending_limits_defer(mail_engine, smtp):
    collector, port = smtp
    tokyo = ZoneInfo("Asia/Tokyo")
    local = datetime.now(UTC).astimezone(tokyo)
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    settings = mail_settings(
        mail_engine.url.render_as_string(hide_password=False),
        port,
        quiet_hours_start=start,
        quiet_hours_end=end,
        send_limit_per_minute=1,
    )
    # Quiet now in Tokyo (its time_zone attribute), not in Paris (from its country).
    sleeper = _person(mail_engine, "kenji@example.jp", attributes={"time_zone": "Asia/Tokyo"})
    awake = _person(
        mail_engine, "amelie@example.fr", attributes={"country": "France"}, first_name="Amelie"
    )
    quiet = _queue(mail_engine, settings, sleeper, "marketing", "Offer")
    first = _queue(mail_engine, settings, awake, "transactional", "Receipt 1")
    limited = _queue(mail_engine, settings, awake, "transactional", "Receipt 2")

    Runner(mail_engine, settings).run()

    row = _message(mail_engine, quiet)
    assert row.status == "deferred" and "quiet hours" in row.reason and "Asia/Tokyo" in row.reason
    wake = row.run_at.astimezone(tokyo)
    assert (wake.hour, wake.minute) == (end.hour, end.minute) and wake > local
    assert _message(mail_engine, first).status == "sent"
    limited_row = _message(mail_engine, limited)
    assert limited_row.status == "deferred"
    assert limited_row.reason == "sending limit: 1 emails per minute"
    # Deferred, not dropped: each has a queued job due when it may go.
    with mail_engine.connect() as connection:
        waiting = connection.execute(
            select(Job.payload, Job.run_at).where(
                Job.state == "queued", Job.task.startswith("messaging.")
            )
        ).all()
    assert sorted(j.payload["message_id"] for j in waiting) == sorted([quiet, limited])
    assert [r.rcpt_tos for r in collector.received] == [["amelie@example.fr"]]


def test_a_550_5_1_1_suppresses_the_address_and_a_451_is_retried(mail_engine, smtp):
    collector, port = smtp
    collector.refuse["nobody@example.org"] = "550 5.1.1 <nobody@example.org>: user unknown"
    collector.defer_once.add("busy@example.org")
    settings = mail_settings(mail_engine.url.render_as_string(hide_password=False), port)
    nobody = _person(mail_engine, "nobody@example.org")
    busy = _person(mail_engine, "busy@example.org")
    bounced = _queue(mail_engine, settings, nobody)
    retried = _queue(mail_engine, settings, busy)

    Runner(mail_engine, settings).run()

    row = _message(mail_engine, bounced)
    assert row.status == "failed"
    assert (
        row.reason
        == "hard bounce, address suppressed: 550 5.1.1 <nobody@example.org>: user unknown"
    )
    with mail_engine.connect() as connection:
        suppression = connection.execute(select(Suppression.address, Suppression.source)).one()
        bounce_events = connection.scalars(
            select(Event.type).where(Event.person_id == nobody, Event.source == "messaging")
        ).all()
        job = connection.execute(
            select(Job.id, Job.state, Job.error).where(
                Job.payload["message_id"].as_integer() == retried
            )
        ).one()
    assert tuple(suppression) == ("nobody@example.org", "bounce")
    assert bounce_events == ["email_bounced"]
    # The 451: back in the queue with a backoff, the reason on the message
    waiting = _message(mail_engine, retried)
    assert (waiting.status, job.state) == ("queued", "queued")
    assert waiting.reason.startswith("451 4.3.0 Try again later (attempt 1")
    assert "451" in job.error
    first_id = waiting.message_id_header
    with mail_engine.begin() as connection:  # the backoff has passed
        connection.execute(update(Job).where(Job.id == job.id).values(run_at=datetime.now(UTC)))

    Runner(mail_engine, settings).run()

    row = _message(mail_engine, retried)
    assert (row.status, row.attempts, row.message_id_header) == ("sent", 2, first_id)
    assert collector.message_ids() == [first_id]
    # A later message to the bounced address is skipped, not sent
    again = _queue(mail_engine, settings, nobody)
    Runner(mail_engine, settings).run()
    assert _message(mail_engine, again).status == "suppressed"
