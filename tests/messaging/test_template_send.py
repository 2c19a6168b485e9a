"""The issue's walk with aiosmtpd: from the person page, a template sent to a customer
arrives with their name and last order; its unsubscribe link is the message's own and
withdraws consent at once, after which a marketing send is suppressed with the reason
while a transactional one still goes."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.customers.models import ConsentRecord, ConsentStatus
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.messaging.models import Message
from tenure.messaging.templating.actions import ensure_library
from tenure.messaging.templating.models import MessageTemplate
from tenure.web.app import create_app
from tenure.workspace import clock
from tests.messaging.conftest import PUBLIC_URL, Runner, mail_settings
from tests.messaging.templating.customers import grace_with_history
from tests.pages import csrf_token, log_in

PASSWORD = "mail-password-1"


def test_a_template_from_the_person_page_arrives_with_name_and_last_order(mail_engine, smtp):
    collector, port = smtp
    settings = mail_settings(mail_engine.url.render_as_string(hide_password=False), port)
    factory = make_session_factory(mail_engine)
    with unit_of_work(factory) as session:
        grace = grace_with_history(session)
        session.add(
            ConsentRecord(
                person_id=grace,
                channel="email",
                purpose="marketing",
                status=ConsentStatus.granted.value,
                source="test",
                recorded_at=clock.now(session) - timedelta(days=30),
            )
        )
        ensure_library(session)
        create_user(session=session, email="sam@example.com", role="sales", password=PASSWORD)
        templates = dict(session.execute(select(MessageTemplate.name, MessageTemplate.id)).all())

    with TestClient(create_app(settings, mail_engine)) as client:
        log_in(client, "sam@example.com", PASSWORD)
        page = client.get(f"/people/{grace}").text
        assert "Order follow-up (transactional)" in page  # the template form offers them
        token = csrf_token(page)

        def send(name: str) -> int:
            sent = client.post(
                f"/people/{grace}/emails",
                data={"csrf_token": token, "template_id": str(templates[name])},
                follow_redirects=False,
            )
            assert sent.status_code == 303, sent.text
            return int(sent.headers["location"].rsplit("/", 1)[1])

        follow_up = send("Order follow-up")
        welcome = send("Welcome")
        Runner(mail_engine, settings).run()

        received = {m.message["Subject"]: m.message for m in collector.received}
        order_mail = received["How is your order of 10 January 2025?"]
        html = order_mail.get_body(("html",)).get_content()
        text = order_mail.get_body(("plain",)).get_content()
        assert "Hello Grace," in html and "Hello Grace," in text
        assert "$42.50" in html and "Books" in html  # the last order, its total and items
        [welcome_mail] = [m for s, m in received.items() if s != order_mail["Subject"]]
        marketing_html = welcome_mail.get_body(("html",)).get_content()
        assert "unsubscribe.invalid" not in marketing_html
        link = re.search(rf'href="({re.escape(PUBLIC_URL)}/unsubscribe/[^"]+)"', marketing_html)
        assert link, "the template's unsubscribe link is the message's own, not click-tracked"
        with unit_of_work(factory) as session:
            rows = {m.id: m for m in session.scalars(select(Message))}
            assert rows[follow_up].status == "sent" and rows[welcome].status == "sent"
            assert rows[follow_up].template_version_id is not None

        # One click on the link (RFC 8058's POST) withdraws marketing consent at once.
        path = link.group(1).removeprefix(PUBLIC_URL)
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        again = send("Welcome")
        receipt = send("Order follow-up")
        Runner(mail_engine, settings).run()
        with unit_of_work(factory) as session:
            suppressed = session.get(Message, again)
            assert suppressed is not None and suppressed.status == "suppressed"
            assert suppressed.reason == "no consent: email marketing consent withdrawn"
            delivered = session.get(Message, receipt)
            assert delivered is not None and delivered.status == "sent"
