"""Issue 15's end-to-end: an order enrols a person, the wait elapses on the workspace
clock, the email arrives (aiosmtpd) with their name and last order, a second order
reaches the goal and cancels the rest; an unsubscribed person is skipped with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tenure.automation.models import EnrolmentState, StepState
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.messaging.models import Message
from tenure.messaging.templating.actions import create_template
from tests.automation.conftest import T0, at, enrolments, order, person, run, steps_of, workflow
from tests.messaging.conftest import Runner, mail_settings, smtp  # noqa: F401

SUBJECT = "Thanks for your order, {{ person.first_name }}"
HTML = (
    "<p>Hello {{ person.first_name }},</p>"
    "{% if last_order %}<p>Your order of {{ last_order.date|date }}: "
    "{{ last_order.total|money }}.</p>{% endif %}"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def _definition(template_id: int) -> dict:
    return {
        "trigger": {"kind": "event", "event_type": "order"},
        "goal": {"event_type": "order"},
        "steps": [
            {"id": "pause", "kind": "wait", "duration": {"days": 2}},
            {"id": "thanks", "kind": "send_email", "template_id": template_id},
            {"id": "later", "kind": "wait", "duration": {"days": 5}},
            {"id": "call", "kind": "create_task", "title": "Call about the order"},
        ],
    }


@pytest.fixture
def mail(fresh_database_url, smtp):  # noqa: F811
    collector, port = smtp
    engine = create_db_engine(fresh_database_url)
    settings = mail_settings(fresh_database_url, port)
    yield engine, settings, collector
    engine.dispose()


def test_an_order_enrols_waits_emails_and_a_second_order_reaches_the_goal(mail):
    engine, settings, collector = mail
    factory = make_session_factory(engine)
    with factory() as session:
        at(session, T0)
        template, _ = create_template(
            session=session,
            actor=None,
            name="Thanks",
            purpose="marketing",
            subject=SUBJECT,
            html=HTML,
        )
        session.commit()
        workflow_id = workflow(session, _definition(template.id))
        ada = person(session, "ada@example.org", first_name="Ada")
        order(session, ada, T0, amount_minor=4200)
        [enrolment] = enrolments(session, workflow_id)
        assert (enrolment.person_id, enrolment.state, enrolment.current_step) == (
            ada,
            "active",
            "pause",
        )
        # Not due yet: nothing runs, whatever the wall clock says.
        assert run(factory, settings).ran == 0
        at(session, T0 + timedelta(days=2, minutes=1))
    assert run(factory, settings).ran == 2  # the wait, then the email step
    Runner(engine, settings).run()  # the send job
    [received] = collector.received
    mime = received.message
    assert received.rcpt_tos == ["ada@example.org"]
    assert mime["Subject"] == "Thanks for your order, Ada"
    body = mime.get_body(("html",)).get_content()
    assert "Hello Ada" in body and "$42.00" in body
    with factory() as session:
        [message] = session.scalars(select(Message)).all()
        assert message.idempotency_key == f"workflow:{enrolment.id}:thanks:1"
        assert [s[:2] for s in steps_of(session, enrolment.id)] == [
            ("pause", "done"),
            ("thanks", "done"),
            ("later", "pending"),
        ]
        # A second order three days later: the goal; the remaining wait is cancelled.
        at(session, T0 + timedelta(days=3))
        order(session, ada, T0 + timedelta(days=3), amount_minor=1000)
        rows = enrolments(session, workflow_id)
        assert rows[0].state == EnrolmentState.goal_reached.value
        assert rows[0].end_reason == "goal reached: order"
        assert steps_of(session, enrolment.id)[-1][:2] == ("later", StepState.cancelled.value)
        # The second order enrolled her again (after_exit: the first enrolment ended).
        assert len(rows) == 2 and rows[1].state == "active"
        at(session, T0 + timedelta(days=20))
    run(factory, settings)
    with factory() as session:
        # The first enrolment's task step never ran.
        assert [s[0] for s in steps_of(session, enrolment.id)] == ["pause", "thanks", "later"]


def test_an_unsubscribed_person_is_skipped_with_the_reason(mail):
    engine, settings, collector = mail
    factory = make_session_factory(engine)
    with factory() as session:
        at(session, T0)
        template, _ = create_template(
            session=session,
            actor=None,
            name="Thanks",
            purpose="marketing",
            subject=SUBJECT,
            html=HTML,
        )
        session.commit()
        definition = _definition(template.id)
        definition["exit_when"] = {"unsubscribed": False}  # stay in: see the skip itself
        workflow_id = workflow(session, definition)
        bob = person(session, "bob@example.org", first_name="Bob", marketing="withdrawn")
        order(session, bob, T0)
        at(session, T0 + timedelta(days=2, minutes=1))
    run(factory, settings)
    Runner(engine, settings).run()
    assert collector.received == []
    with factory() as session:
        [enrolment] = enrolments(session, workflow_id)
        steps = steps_of(session, enrolment.id)
        assert steps[1] == ("thanks", "skipped", "no consent: email marketing consent withdrawn")
        assert session.scalars(select(Message)).all() == []
