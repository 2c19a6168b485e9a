"""The links in an email (one-click unsubscribe, its page, open pixel, click redirect),
the API and the pages, through the real app on both backends."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.customers.models import ConsentRecord
from tenure.identity.models import AuditEntry
from tenure.messaging.actions import queue_email
from tenure.messaging.links import CLICK, MessageLinks, sign
from tenure.messaging.models import Message, Suppression
from tenure.timeline.models import Event
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET, make_api_user
from tests.messaging.conftest import Runner, add_person, mail_settings
from tests.messaging.test_sending import HTML
from tests.pages import csrf_token, log_in


def _path(url: str) -> str:
    return urlsplit(url).path


def test_one_click_unsubscribe_then_marketing_is_suppressed_and_transactional_goes(
    mail_engine, smtp, fresh_database_url
):
    collector, port = smtp
    settings = mail_settings(fresh_database_url, port)
    app = create_app(settings, mail_engine)
    factory = app.state.session_factory
    with factory() as session:
        person = add_person(session, "ada@example.org")
        session.commit()
        offer = queue_email(
            session,
            actor=None,
            person_id=person,
            subject="Sale",
            html=HTML,
            text="Sale",
            purpose="marketing",
            settings=settings,
        )
    Runner(mail_engine, settings).run()
    mime = collector.received[0].message
    unsubscribe_url = str(mime["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    with TestClient(app) as client:
        # The page asks first (a GET never unsubscribes: link scanners follow links)
        page = client.get(_path(unsubscribe_url))
        assert page.status_code == 200 and "Stop receiving marketing email" in page.text
        with factory() as session:
            assert (
                session.scalar(
                    select(ConsentRecord.status).order_by(ConsentRecord.id.desc()).limit(1)
                )
                == "granted"
            )
        # The mailbox provider's one-click POST (RFC 8058), no session, no CSRF token
        done = client.post(_path(unsubscribe_url), data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "You are unsubscribed" in done.text
        again = client.post(_path(unsubscribe_url), data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200
        forged = client.post("/unsubscribe/" + "x" * 30, data={"List-Unsubscribe": "One-Click"})
        assert forged.status_code == 422 and "token" in forged.text

        # The open pixel: the first open is an event, later ones are counted
        html = mime.get_body(("html",)).get_content()
        pixel = html.split('src="')[1].split('"')[0]
        for _ in range(2):
            seen = client.get(_path(pixel))
            assert seen.status_code == 200 and seen.headers["content-type"] == "image/gif"
        # The click: to the signed destination only
        link = html.split('href="')[1].split('"')[0]
        clicked = client.get(_path(link), follow_redirects=False)
        assert clicked.status_code == 302
        assert clicked.headers["location"] == "https://shop.example.com/sale?a=1&b=2"
        # A token for a javascript: destination (signed, even) is refused: no open redirect
        with factory() as session:
            key = TEST_SECRET
        evil = sign(key, CLICK, [offer.id, "javascript:alert(1)"])
        assert client.get(f"/e/c/{evil}", follow_redirects=False).status_code == 422
        tampered = link[:-3] + "abc"
        assert client.get(_path(tampered), follow_redirects=False).status_code == 422

    with factory() as session:
        consents = session.execute(
            select(ConsentRecord.purpose, ConsentRecord.status, ConsentRecord.source).order_by(
                ConsentRecord.id
            )
        ).all()
        assert [tuple(c) for c in consents] == [
            ("marketing", "granted", "test"),
            ("marketing", "withdrawn", "unsubscribe link"),
        ]
        events = session.scalars(
            select(Event.type).where(Event.source == "messaging").order_by(Event.id)
        ).all()
        assert events == ["email_sent", "email_unsubscribed", "email_opened", "email_clicked"]
        row = session.get(Message, offer.id)
        assert (row.opens, row.clicks) == (2, 1)
        # Then a marketing send is suppressed with the reason; a transactional one goes
        later = queue_email(
            session,
            actor=None,
            person_id=person,
            subject="Another sale",
            html="",
            text="Sale",
            purpose="marketing",
            settings=settings,
        )
        receipt = queue_email(
            session,
            actor=None,
            person_id=person,
            subject="Receipt",
            html="",
            text="Thanks",
            purpose="transactional",
            settings=settings,
        )
    Runner(mail_engine, settings).run()
    with factory() as session:
        assert (session.get(Message, later.id).status, session.get(Message, later.id).reason) == (
            "suppressed",
            "no consent: email marketing consent withdrawn",
        )
        assert session.get(Message, receipt.id).status == "sent"
    assert [r.message["Subject"] for r in collector.received] == ["Sale", "Receipt"]


def test_the_api_queues_lists_and_refuses_bad_input_naming_the_field(session, client, api_user):
    writer, analyst = api_user("marketing"), api_user("analyst", scope="read")
    person = add_person(session, "ada@example.org")
    bare = add_person(session, "x@example.org")
    from tenure.customers.models import Identity

    session.query(Identity).filter(Identity.person_id == bare).delete()
    session.commit()

    created = client.post(
        "/api/v1/messages",
        json={"person_id": person, "subject": "Hello", "text": "Hi", "purpose": "transactional"},
        headers=writer.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["to"], body["purpose"]) == (
        "queued",
        "ada@example.org",
        "transactional",
    )
    assert body["message_id"].startswith("<") and body["job_id"]

    def refused(payload, field):
        answer = client.post("/api/v1/messages", json=payload, headers=writer.headers)
        assert answer.status_code == 422, answer.text
        assert field in answer.text

    base = {"person_id": person, "subject": "Hi", "text": "x", "purpose": "marketing"}
    refused({**base, "purpose": "spam"}, "purpose")
    refused({**base, "subject": "a\r\nBcc: victim@example.com"}, "subject")
    refused({**base, "text": "", "html": ""}, "text")
    refused({**base, "person_id": bare}, "person_id")
    assert (
        client.post("/api/v1/messages", json={**base, "person_id": 999999}, headers=writer.headers)
    ).status_code == 404
    assert client.post("/api/v1/messages", json=base, headers=analyst.headers).status_code == 403

    listed = client.get("/api/v1/messages?status=queued", headers=analyst.headers).json()
    assert [m["id"] for m in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/messages?status=lost", headers=analyst.headers).status_code == 422
    one = client.get(f"/api/v1/messages/{body['id']}", headers=analyst.headers).json()
    assert one["text"] == "Hi"
    audit = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "message")
    ).all()
    assert audit == ["create"]


def test_suppressions_crud_is_for_admins(session, client, api_user):
    admin, writer = api_user("admin"), api_user("marketing")
    added = client.post(
        "/api/v1/suppressions",
        json={"address": "Gone@Example.org", "reason": "asked by phone"},
        headers=admin.headers,
    )
    assert added.status_code == 201, added.text
    assert (added.json()["address"], added.json()["source"]) == ("gone@example.org", "manual")
    again = client.post(
        "/api/v1/suppressions",
        json={"address": "gone@example.org", "reason": "twice"},
        headers=admin.headers,
    )
    assert again.status_code == 409
    bad = client.post(
        "/api/v1/suppressions",
        json={"address": "not an address", "reason": "x"},
        headers=admin.headers,
    )
    assert bad.status_code == 422 and "address" in bad.text
    assert (
        client.post(
            "/api/v1/suppressions",
            json={"address": "a@b.org", "reason": "x"},
            headers=writer.headers,
        ).status_code
        == 403
    )
    listed = client.get("/api/v1/suppressions?q=gone", headers=writer.headers).json()
    assert [s["address"] for s in listed["items"]] == ["gone@example.org"]
    sid = added.json()["id"]
    assert client.delete(f"/api/v1/suppressions/{sid}", headers=writer.headers).status_code == 403
    assert client.delete(f"/api/v1/suppressions/{sid}", headers=admin.headers).status_code == 204
    assert session.scalars(select(Suppression.address)).all() == []


def test_pages_show_the_outbox_to_the_analyst_and_the_controls_to_writers(session, client):
    analyst = make_api_user(session, "analyst")
    admin = make_api_user(session, "admin")
    person = add_person(session, "ada@example.org")
    session.commit()
    queue_email(
        session,
        actor=None,
        person_id=person,
        subject="Hello <b>",
        html="<p>Hi</p><script>x</script>",
        text="Hi",
        purpose="transactional",
    )
    log_in(client, analyst.email, "correct horse 1")
    outbox = client.get("/messages")
    assert outbox.status_code == 200 and "Hello &lt;b&gt;" in outbox.text
    assert client.get("/messages?status=queued").status_code == 200
    message_id = session.scalar(select(Message.id))
    page = client.get(f"/messages/{message_id}")
    assert 'sandbox=""' in page.text and "&lt;script&gt;" in page.text
    person_page = client.get(f"/people/{person}")
    assert 'id="emails"' in person_page.text and 'id="send-email"' not in person_page.text
    suppressions = client.get("/suppressions")
    assert suppressions.status_code == 200 and 'action="/suppressions"' not in suppressions.text
    client.post("/logout", data={"csrf_token": "x"})

    client.cookies.clear()
    log_in(client, admin.email, "correct horse 1")
    person_page = client.get(f"/people/{person}")
    assert 'id="send-email"' in person_page.text
    token = csrf_token(person_page.text)
    sent = client.post(
        f"/people/{person}/emails",
        data={
            "subject": "From the page",
            "text": "Hello Ada",
            "purpose": "transactional",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    row = session.scalar(select(Message).where(Message.subject == "From the page"))
    assert row is not None and row.created_by_id == admin.id
    assert 'action="/suppressions"' in client.get("/suppressions").text
    added = client.post(
        "/suppressions",
        data={"address": "gone@example.org", "reason": "asked", "csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert session.scalar(select(Suppression.address)) == "gone@example.org"


def test_message_links_sign_each_kind_apart():
    links = MessageLinks(key=TEST_SECRET, public_url="https://x.example/", message_id=7)
    assert links.unsubscribe_url.startswith("https://x.example/unsubscribe/")
    token = links.unsubscribe_url.rsplit("/", 1)[1]
    # an unsubscribe token is no open token
    assert token not in links.open_url


def test_the_timeline_tells_an_email_with_a_link_to_its_body():
    from tenure.timeline.story import tell

    sent = {"type": "email_sent", "payload": {"subject": "Hi", "url": "/messages/3"}}
    assert (tell(sent).quote, tell(sent).href) == ("“Hi”", "/messages/3")
    clicked = {"type": "email_clicked", "payload": {"url": "/messages/3", "link": "https://a.b/"}}
    assert tell(clicked).details == ["https://a.b/"]
    outside = {"type": "email_sent", "payload": {"url": "https://evil.example/"}}
    assert tell(outside).href is None  # only Tenure's own pages
