"""A manual override with a reason pins the stage until cleared: API, rules, page form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tenure.db.types import utcnow
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.lifecycle.models import StageHistory
from tests.pages import csrf_token, log_in

from .helpers import order, person, stage_of


def test_override_is_respected_until_cleared(client, admin, session, session_factory):
    now = utcnow()
    buyer = person(session, "Vip")
    session.commit()
    url = f"/api/v1/lifecycle/people/{buyer}"

    # Given an override to Loyal with a reason
    response = client.put(
        url + "/override",
        json={"stage": "loyal", "reason": "Signed the 3-year contract"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stage"] == "loyal"
    assert body["override"]["reason"] == "Signed the 3-year contract"
    assert body["override"]["by_id"] == admin.id

    # When events and a batch evaluation would place them elsewhere
    posted = client.post(
        "/api/v1/events", json=[order(buyer, now - timedelta(days=1))], headers=admin.headers
    )
    assert posted.status_code == 200
    evaluate_all_stages(session_factory=session_factory)

    # Then the rules leave them in Loyal, with one change recorded (the override)
    assert stage_of(session, buyer) == "loyal"
    history = client.get(url + "/history", headers=admin.headers).json()["items"]
    assert [(h["from"], h["to"], h["source"]) for h in history] == [(None, "loyal", "override")]
    assert history[0]["reason"] == "Signed the 3-year contract"
    assert history[0]["actor_id"] == admin.id

    # When the override is cleared, the rules place them at once
    cleared = client.delete(url + "/override", headers=admin.headers)
    assert cleared.status_code == 200
    assert cleared.json()["stage"] == "new_customer" and cleared.json()["override"] is None
    history = client.get(url + "/history", headers=admin.headers).json()["items"]
    newest = history[0]
    assert (newest["from"], newest["to"], newest["source"]) == (
        "loyal",
        "new_customer",
        "rule",
    )

    # And both actions are audited
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "person_stage", AuditEntry.entity_id == str(buyer)
        )
    ).all()
    assert [a.action for a in audit] == ["override", "clear_override"]
    assert audit[0].changes["stage"] == {"before": None, "after": "loyal"}
    assert all(a.actor_id == admin.id for a in audit)


def test_override_to_the_current_stage_pins_without_a_change(client, admin, session):
    buyer = person(session, "Same")
    session.commit()
    client.post("/api/v1/events", json=[order(buyer, utcnow())], headers=admin.headers)
    response = client.put(
        f"/api/v1/lifecycle/people/{buyer}/override",
        json={"stage": "new_customer", "reason": "keep nurturing"},
        headers=admin.headers,
    )
    assert response.json()["override"]["reason"] == "keep nurturing"
    rows = session.scalars(select(StageHistory).where(StageHistory.person_id == buyer)).all()
    assert len(rows) == 1  # the rule's placement only


def test_override_errors_name_the_field(client, admin, session):
    someone = person(session, "Err")
    session.commit()
    url = f"/api/v1/lifecycle/people/{someone}/override"
    unknown = client.put(url, json={"stage": "gold", "reason": "x"}, headers=admin.headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "stage"
    blank = client.put(url, json={"stage": "loyal", "reason": "  "}, headers=admin.headers)
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"
    missing = client.put(url, json={"stage": "loyal"}, headers=admin.headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    nobody = client.put(
        "/api/v1/lifecycle/people/999999/override",
        json={"stage": "loyal", "reason": "x"},
        headers=admin.headers,
    )
    assert nobody.status_code == 404
    assert client.delete(url, headers=admin.headers).status_code == 404


def test_person_page_shows_stage_history_and_takes_an_override(client, session):
    create_user(session=session, email="rep@example.com", role="sales", password="rep-pass-1")
    buyer = person(session, "Paged")
    session.commit()
    log_in(client, "rep@example.com", "rep-pass-1")

    page = client.get(f"/people/{buyer}")
    assert page.status_code == 200 and 'id="stage"' in page.text
    assert "No stage yet." in page.text

    response = client.post(
        f"/people/{buyer}/stage/override",
        data={
            "stage": "advocate",
            "reason": "Spoke at our conference",
            "csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("#stage")
    page = client.get(f"/people/{buyer}")
    assert 'data-stage="advocate"' in page.text
    assert "Spoke at our conference" in page.text
    assert "Clear override" in page.text

    client.post(f"/people/{buyer}/stage/override/clear", data={"csrf_token": csrf_token(page.text)})
    assert stage_of(session, buyer) == "prospect"
    page = client.get(f"/people/{buyer}")
    assert page.text.count("<time datetime=") >= 2  # two changes in the history list
