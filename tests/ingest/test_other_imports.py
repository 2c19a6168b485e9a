"""vCard, people JSON lines and email imports, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from tenure.customers.actions import define_attribute
from tenure.customers.models import AttributeType, ConsentRecord, Identity, Person
from tenure.customers.schemas import AttributeDefinitionCreate
from tenure.db.session import unit_of_work
from tenure.identity.actions import create_user
from tenure.ingest.csv_import import path_opener
from tenure.ingest.email_import import email_source, html_to_text
from tenure.ingest.people_jsonl import people_jsonl_source
from tenure.ingest.runner import run_import
from tenure.ingest.vcard import vcard_source
from tenure.timeline.models import Event

DATA = Path(__file__).parent / "data"


def _person_by(session, kind, value):
    return session.scalar(
        select(Person).join(Identity).where(Identity.kind == kind, Identity.value == value)
    )


def _run(session_factory, source, dry_run=False):
    return run_import(
        session_factory=session_factory, source=source, actor_id=None, dry_run=dry_run
    )


def test_vcard_3_and_4(session, session_factory):
    source = vcard_source(
        opener=path_opener(DATA / "contacts.vcf"), file_name="contacts.vcf", default_region="US"
    )
    report = _run(session_factory, source)
    assert report.counts() == {
        "created": 2,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    (issue,) = report.issues
    assert (issue.line, issue.column) == (25, "TEL")

    johnny = _person_by(session, "email", "johnny@apple.example")
    assert (johnny.first_name, johnny.last_name, johnny.job_title) == (
        "Johnny",
        "Appleseed",
        "Planter",
    )
    assert johnny.organization.name == "Apple Orchards"
    assert sorted(t.name for t in johnny.tags) == ["farmers", "vip"]
    assert johnny.attributes["country"] == "US" and johnny.attributes["city"] == "Cupertino"
    assert johnny.attributes["birthday"] == "1774-09-26"
    assert {(i.kind, i.namespace, i.value) for i in johnny.identities} == {
        ("email", "", "johnny@apple.example"),
        ("phone", "", "+14085550110"),
        ("external", "vcard", "card-johnny-1"),
    }
    jane = _person_by(session, "phone", "+442079460123")
    assert (jane.first_name, jane.last_name) == ("Jane Q.", "Public")
    assert jane.attributes["birthday"] == "--04-15" and jane.attributes["country"] == "GB"

    again = _run(
        session_factory,
        vcard_source(
            opener=path_opener(DATA / "contacts.vcf"), file_name="contacts.vcf", default_region="US"
        ),
    )
    assert again.counts()["unchanged"] == 2 and again.counts()["created"] == 0


def test_people_jsonl_uses_the_api_schema(session, session_factory):
    with unit_of_work(session_factory) as work:
        source = people_jsonl_source(
            work,
            opener=path_opener(DATA / "people.jsonl"),
            file_name="people.jsonl",
            default_region="US",
        )
    report = _run(session_factory, source)
    assert report.counts() == {
        "created": 2,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 3,
    }
    problems = {(i.line, i.column) for i in report.issues}
    assert problems == {(3, "identities.0.value"), (4, "first_name"), (4, "colour"), (5, "(line)")}
    ada = _person_by(session, "email", "ada@example.com")
    assert [t.name for t in ada.tags] == ["vip"]
    assert _person_by(session, "external", "A-1").id == ada.id
    consents = session.scalars(
        select(ConsentRecord.status).where(ConsentRecord.person_id == ada.id)
    )
    assert list(consents) == ["granted"]
    assert _person_by(session, "phone", "+33142685300").first_name == "Bea"

    with unit_of_work(session_factory) as work:
        source = people_jsonl_source(
            work,
            opener=path_opener(DATA / "people.jsonl"),
            file_name="people.jsonl",
            default_region="US",
        )
    again = _run(session_factory, source)
    assert again.counts()["unchanged"] == 2
    count = session.scalar(
        select(func.count()).select_from(ConsentRecord).where(ConsentRecord.person_id == ada.id)
    )
    assert count == 1  # an unchanged consent is not recorded twice


def test_mbox_and_eml_become_email_events(session, session_factory):
    create_user(session=session, email="sue@acme.test", role="support", password=None)
    session.commit()
    with unit_of_work(session_factory) as work:
        source = email_source(
            work, opener=path_opener(DATA / "support.mbox"), file_name="support.mbox"
        )
    report = _run(session_factory, source)
    assert report.counts() == {
        "created": 3,
        "duplicates": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    (issue,) = report.issues
    assert (issue.line, issue.column) == (35, "To")  # the colleagues-only message

    ada = _person_by(session, "email", "ada@example.com")
    events = session.scalars(
        select(Event)
        .where(Event.person_id == ada.id, Event.source == "email")
        .order_by(Event.occurred_at)
    ).all()
    # (Plus the stage_changed event the pipeline wrote: tests/timeline/test_pipeline.py.)
    assert [e.type for e in events] == ["email_received", "email_sent"]
    received, sent = events
    assert received.client_event_id == "<order-1@mail.example.com>"
    assert received.source == "email" and received.channel == "email"
    assert received.occurred_at.isoformat() == "2026-03-02T08:00:00+00:00"
    assert received.payload["subject"] == "My order has not arrived"
    assert received.payload["body"].endswith("From the tracking page it looks stuck.")
    assert sent.payload["direction"] == "sent"
    assert sent.payload["body"] == "Hi Ada,\n\nYour parcel ships today."
    assert sent.payload["in_reply_to"] == "<order-1@mail.example.com>"
    assert sent.payload["references"] == ["<order-1@mail.example.com>"]
    assert sent.payload["attachments"] == ["label.pdf"]
    assert sent.payload["cc"] == ["sam@acme.test"]
    newcomer = _person_by(session, "email", "newcustomer@example.net")
    no_id = session.scalar(
        select(Event).where(Event.person_id == newcomer.id, Event.source == "email")
    )
    assert no_id.client_event_id.startswith("sha256:")

    with unit_of_work(session_factory) as work:
        source = email_source(
            work, opener=path_opener(DATA / "support.mbox"), file_name="support.mbox"
        )
    again = _run(session_factory, source)
    assert again.counts()["created"] == 0 and again.counts()["unchanged"] == 3

    with unit_of_work(session_factory) as work:
        eml = email_source(
            work,
            opener=path_opener(DATA / "single.eml"),
            file_name="single.eml",
            our_domains=["acme.test"],
        )
    assert _run(session_factory, eml).counts()["created"] == 1
    grace = _person_by(session, "email", "grace@navy.example")
    event = session.scalar(select(Event).where(Event.person_id == grace.id))
    assert (event.type, event.client_event_id) == ("email_received", "<quote-7@example.com>")


def test_html_is_stripped_to_text():
    assert html_to_text("<p>A &amp; B</p><style>p{}</style><div>C<br>D</div>") == "A & B\n\nC\nD"


def test_people_jsonl_refuses_integers_beyond_64_bits_per_line(session, session_factory, tmp_path):
    """orjson read 2**70 as a float, which a number attribute then stored rounded."""
    define_attribute(
        session=session,
        data=AttributeDefinitionCreate(key="seats", label="Seats", type=AttributeType.number),
        actor_id=None,
    )
    session.commit()
    huge = 2**70
    lines = [
        {
            "first_name": "Big",
            "identities": [_email("big@example.com")],
            "attributes": {"seats": huge},
        },
        {"first_name": "Ok", "identities": [_email("ok@example.com")], "attributes": {"seats": 12}},
        {"first_name": huge, "identities": [_email("num@example.com")]},
    ]
    path = tmp_path / "people.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + '\n{"first_name": \n')
    with unit_of_work(session_factory) as work:
        source = people_jsonl_source(
            work, opener=path_opener(path), file_name="people.jsonl", default_region="US"
        )
    report = _run(session_factory, source)
    assert report.counts()["created"] == 1 and report.counts()["rejected"] == 3
    reasons = {(i.line, i.column): i.reason for i in report.issues}
    assert set(reasons) == {(1, "attributes.seats"), (3, "first_name"), (4, "(line)")}
    assert "64" in reasons[(1, "attributes.seats")]
    assert reasons[(4, "(line)")].startswith("invalid JSON")
    assert _person_by(session, "email", "big@example.com") is None
    assert _person_by(session, "email", "ok@example.com").attributes == {"seats": 12}


def _email(value: str) -> dict:
    return {"kind": "email", "value": value}
