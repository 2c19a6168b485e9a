"""The person card, the workflow pages as each role sees them, and the analysis API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tenure.automation import actions
from tenure.automation.cards import workflows_card
from tenure.automation.models import Enrolment, EnrolmentStep
from tenure.customers.models import Person
from tenure.identity.actions import create_user
from tenure.messaging.templating.library import seed_library
from tenure.profile.cards import person_view
from tenure.summaries.queries import person_360
from tenure.timeline.append import append_events
from tenure.workspace.clock import fix_now
from tenure.workspace.queries import ensure_workspace
from tests.pages import csrf_token, log_in

TODAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "pass-word-123"


def _world(session) -> tuple[int, int]:
    """A published workflow (order -> wait 2 days -> Win-back) and Ada, enrolled by an order."""
    ensure_workspace(session)
    fix_now(session, TODAY)
    for role in ("admin", "marketing", "analyst"):
        create_user(session=session, email=f"{role}@example.com", role=role, password=PASSWORD)
    templates = {t.library_key: t.id for t in seed_library(session)}
    ada = Person(first_name="Ada", last_name="Lovelace", attributes={})
    session.add(ada)
    session.commit()
    workflow = actions.create_workflow(
        session,
        actor=None,
        name="Thank you",
        definition={
            "trigger": {"kind": "event", "event_type": "order"},
            "goal": {"event_type": "order"},
            "steps": [
                {"id": "wait", "kind": "wait", "duration": {"days": 2}},
                {"id": "mail", "kind": "send_email", "template_id": templates["win-back"]},
            ],
        },
    )
    actions.publish(session, actor=None, workflow_id=workflow.id)
    item = {
        "type": "order",
        "person_id": ada.id,
        "occurred_at": TODAY.isoformat(),
        "amount_minor": 1000,
        "currency": "USD",
    }
    append_events(session=session, raw_items=[item], actor_id=None)
    session.commit()
    return workflow.id, ada.id


def test_the_card_says_where_the_person_is_and_what_comes_next(session) -> None:
    _, ada = _world(session)
    card = workflows_card(session, person_view(session, ada, person_360(session, ada)))
    [entry] = card["active"]
    assert entry["workflow_name"] == "Thank you"
    assert entry["current_step"] == "1. Wait 2 days"
    assert entry["next_step"] == "2. Send 'Win-back' (marketing)"
    assert entry["due_at"] == TODAY + timedelta(days=2)
    assert card["ended"] == []


def test_person_page_cancel_for_editors_only(client, session) -> None:
    _, ada = _world(session)
    log_in(client, "analyst@example.com", PASSWORD)
    page = client.get(f"/people/{ada}").text
    assert "1. Wait 2 days" in page and "/cancel" not in page

    client.cookies.clear()
    log_in(client, "marketing@example.com", PASSWORD)
    page = client.get(f"/people/{ada}").text
    enrolment_id = session.scalar(select(Enrolment.id).where(Enrolment.person_id == ada))
    assert f"/workflows/enrolments/{enrolment_id}/cancel" in page
    answer = client.post(
        f"/workflows/enrolments/{enrolment_id}/cancel",
        data={"csrf_token": csrf_token(page), "back": f"/people/{ada}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/people/{ada}"
    session.expire_all()
    enrolment = session.get(Enrolment, enrolment_id)
    assert enrolment.state == "cancelled"
    states = session.scalars(
        select(EnrolmentStep.state).where(EnrolmentStep.enrolment_id == enrolment_id)
    ).all()
    assert states == ["cancelled"]
    card = workflows_card(session, person_view(session, ada, person_360(session, ada)))
    assert card["active"] == [] and card["ended"][0]["state"] == "cancelled"


def test_pages_as_admin_and_analyst(client, session) -> None:
    workflow_id, _ = _world(session)
    log_in(client, "analyst@example.com", PASSWORD)
    for path in (
        "/workflows",
        f"/workflows/{workflow_id}",
        f"/workflows/{workflow_id}/people",
        f"/workflows/{workflow_id}/report",
        f"/workflows/{workflow_id}/dry-run",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        forms = re.findall(r'<form\b[^>]*method="post"[^>]*>', page.text)
        assert [form for form in forms if 'action="/logout"' not in form] == [], path
        assert '<details class="confirm"' not in page.text, path
    assert client.get(f"/workflows/{workflow_id}/steps/new").status_code == 403
    listing = client.get("/workflows").text
    assert "Thank you" in listing and "New workflow" not in listing

    client.cookies.clear()
    log_in(client, "admin@example.com", PASSWORD)
    builder = client.get(f"/workflows/{workflow_id}").text
    assert 'id="settings-form"' in builder and "Pause" in builder
    people = client.get(f"/workflows/{workflow_id}/people").text
    assert "Ada Lovelace" in people and "1. Wait 2 days" in people


def test_step_edits_through_the_pages(client, session) -> None:
    workflow_id, _ = _world(session)
    log_in(client, "admin@example.com", PASSWORD)
    token = csrf_token(client.get(f"/workflows/{workflow_id}").text)
    add = client.post(
        f"/workflows/{workflow_id}/steps/new",
        data={
            "csrf_token": token,
            "kind": "create_task",
            "title": "Call them",
            "due_in_days": "2",
            "after": "wait",
        },
        follow_redirects=False,
    )
    assert add.status_code == 303
    session.expire_all()
    draft = actions.get_workflow(session, workflow_id).draft
    assert [s["id"] for s in draft["steps"]] == ["wait", "s3", "mail"]
    # A jump backwards is refused, naming the field, and nothing is saved
    bad = client.post(
        f"/workflows/{workflow_id}/steps/s3/move",
        data={"csrf_token": token, "direction": "up"},
    )
    assert bad.status_code == 200 or bad.status_code == 303  # moving up is fine here
    session.expire_all()
    assert [s["id"] for s in actions.get_workflow(session, workflow_id).draft["steps"]] == [
        "s3",
        "wait",
        "mail",
    ]
    refused = client.post(
        f"/workflows/{workflow_id}/steps/wait/edit",
        data={"csrf_token": token, "kind": "wait", "days": "1", "next": "s3"},
    )
    assert refused.status_code == 422 and "goes back to" in refused.text
    removed = client.post(
        f"/workflows/{workflow_id}/steps/s3/remove",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    session.expire_all()
    assert [s["id"] for s in actions.get_workflow(session, workflow_id).draft["steps"]] == [
        "wait",
        "mail",
    ]
    # Settings: a filter that does not compile is saved in the draft but named at once
    saved = client.post(
        f"/workflows/{workflow_id}/settings",
        data={
            "csrf_token": token,
            "trigger_kind": "event",
            "event_type": "order",
            "conditions": "clv >",
            "re_entry": "never",
            "holdout_percent": "20",
            "goal_event_type": "order",
            "exit_unsubscribed": "on",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.expire_all()
    draft = actions.get_workflow(session, workflow_id).draft
    assert (draft["conditions"], draft["holdout_percent"], draft["re_entry"]["policy"]) == (
        "clv >",
        20,
        "never",
    )
    builder = client.get(f"/workflows/{workflow_id}").text
    assert 'id="draft-problems"' in builder and "<code>conditions</code>" in builder
    too_big = client.post(
        f"/workflows/{workflow_id}/settings",
        data={
            "csrf_token": token,
            "trigger_kind": "event",
            "event_type": "order",
            "holdout_percent": "90",
        },
    )
    assert too_big.status_code == 422 and "holdout_percent" in too_big.text
    bad_kind = client.post(
        f"/workflows/{workflow_id}/steps/new", data={"csrf_token": token, "kind": "teleport"}
    )
    assert bad_kind.status_code == 422 and "kind" in bad_kind.text


def test_analysis_api(client, session, api_user) -> None:
    workflow_id, _ = _world(session)
    reader = api_user("analyst", scope="read")
    dry = client.get(f"/api/v1/workflows/{workflow_id}/dry-run?days=7", headers=reader.headers)
    assert dry.status_code == 200
    body = dry.json()
    assert body["would_enter"] == 1 and body["sample"][0]["name"] == "Ada Lovelace"
    assert body["stopped_by_consent"] == 1  # Ada never gave marketing consent

    other = client.post(
        f"/api/v1/workflows/{workflow_id}/dry-run",
        headers=reader.headers,
        json={
            "days": 7,
            "definition": {
                "trigger": {"kind": "event", "event_type": "visit"},
                "steps": [{"id": "x", "kind": "exit"}],
            },
        },
    )
    assert other.status_code == 200 and other.json()["would_enter"] == 0

    bad = client.post(
        f"/api/v1/workflows/{workflow_id}/dry-run",
        headers=reader.headers,
        json={
            "definition": {
                "trigger": {"kind": "event", "event_type": "order"},
                "conditions": "clv >",
                "steps": [{"id": "x", "kind": "exit"}],
            }
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "filter" and "position" in bad.json()["errors"][0]
    too_long = client.get(
        f"/api/v1/workflows/{workflow_id}/dry-run?days=9999", headers=reader.headers
    )
    assert too_long.status_code == 422 and "days" in too_long.text

    report = client.get(f"/api/v1/workflows/{workflow_id}/report", headers=reader.headers)
    assert report.status_code == 200
    data = report.json()
    assert data["window_days"] == 2
    assert data["enrolled"] == {"people": 0, "converted": 0, "rate": None, "open": 1}
    assert [row["step_id"] for row in data["funnel"]] == ["wait", "mail"]
    assert data["funnel"][0]["at_step"] == 1
    assert client.get("/api/v1/workflows/999/report", headers=reader.headers).status_code == 404
