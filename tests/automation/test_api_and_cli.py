"""The API (/api/v1/workflows) and the CLI (tenure workflows ...)."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from tenure.cli.main import app as cli_app
from tests.automation.conftest import T0, at, order, person
from tests.cli.conftest import cli_database  # noqa: F401

DEFINITION = {
    "trigger": {"kind": "event", "event_type": "order"},
    "goal": {"event_type": "order"},
    "steps": [
        {"id": "wait", "kind": "wait", "duration": {"days": 1}},
        {"id": "call", "kind": "create_task", "title": "Call them"},
    ],
}


def test_create_publish_enrol_list_and_cancel_through_the_api(client, session, api_user):
    admin = api_user("admin")
    at(session, T0)
    created = client.post(
        "/api/v1/workflows",
        json={"name": "Follow-up", "definition": DEFINITION},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    published = client.post(f"/api/v1/workflows/{workflow_id}/publish", headers=admin.headers)
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["published_version"]) == ("active", 1)
    ada = person(session, "ada@example.org")
    order(session, ada, T0)
    bob = person(session, "bob@example.org", first_name="Bob")
    enrolled = client.post(
        f"/api/v1/workflows/{workflow_id}/enrolments",
        json={"person_id": bob},
        headers=admin.headers,
    )
    assert enrolled.json() == {"enrolled": 1}
    shown = client.get(f"/api/v1/workflows/{workflow_id}", headers=admin.headers).json()
    assert shown["at_steps"] == {"wait": 2}
    assert shown["enrolments"] == {"active": 2}
    listed = client.get(
        f"/api/v1/workflows/{workflow_id}/enrolments", headers=admin.headers
    ).json()["items"]
    assert [e["person_id"] for e in listed] == [bob, ada]
    assert listed[1]["entry_key"].startswith("event:")
    assert listed[1]["steps"][0]["step_id"] == "wait"
    cancelled = client.post(
        f"/api/v1/workflows/enrolments/{listed[0]['id']}/cancel", headers=admin.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["steps"][0]["state"] == "cancelled"
    again = client.post(
        f"/api/v1/workflows/enrolments/{listed[0]['id']}/cancel", headers=admin.headers
    )
    assert again.status_code == 409


def test_a_bad_definition_is_a_422_naming_each_field(client, session, api_user):
    admin = api_user("admin")
    bad = client.post(
        "/api/v1/workflows",
        json={
            "name": "Bad",
            "definition": {
                "trigger": {"kind": "event", "event_type": "order"},
                "steps": [
                    {"id": "a", "kind": "wait", "duration": {"days": 1}, "next": "a"},
                ],
            },
        },
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "steps.a"
    assert "goes back" in bad.json()["errors"][0]["reason"]
    draft = client.post(
        "/api/v1/workflows",
        json={
            "name": "Mail",
            "definition": {
                "trigger": {"kind": "manual"},
                "steps": [{"id": "mail", "kind": "send_email", "template_id": 12345}],
            },
        },
        headers=admin.headers,
    ).json()
    refused = client.post(f"/api/v1/workflows/{draft['id']}/publish", headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "steps.mail.template_id", "reason": "there is no template 12345"}
    ]


def test_who_may_change_workflows(client, session, api_user):
    analyst, sales, marketing = api_user("analyst"), api_user("sales"), api_user("marketing")
    body = {"name": "By role", "definition": DEFINITION}
    assert client.post("/api/v1/workflows", json=body, headers=analyst.headers).status_code == 403
    assert client.post("/api/v1/workflows", json=body, headers=sales.headers).status_code == 403
    made = client.post("/api/v1/workflows", json=body, headers=marketing.headers)
    assert made.status_code == 201
    assert client.get("/api/v1/workflows", headers=analyst.headers).json()["items"][0]["name"] == (
        "By role"
    )


def test_the_cli_creates_publishes_enrols_and_advances(cli_database, tmp_path):  # noqa: F811
    from tenure.cli.context import cli_sessions

    with cli_sessions()() as session:
        at(session, T0)
        ada = person(session, "ada@example.org")
    file = tmp_path / "workflow.json"
    file.write_text(json.dumps({**DEFINITION, "trigger": {"kind": "manual"}}))
    runner = CliRunner()
    created = runner.invoke(
        cli_app, ["workflows", "create", "--file", str(file), "--name", "Calls", "--publish"]
    )
    assert created.exit_code == 0, created.output
    assert "published as version 1" in created.output
    listed = runner.invoke(cli_app, ["workflows", "list"])
    assert "Calls" in listed.output and "active" in listed.output
    enrolled = runner.invoke(cli_app, ["workflows", "enrol", "1", "--person", str(ada)])
    assert "1 enrolled" in enrolled.output
    with cli_sessions()() as session:
        at(session, T0 + timedelta(days=2))
    advanced = runner.invoke(cli_app, ["workflows", "advance"])
    assert "2 steps ran" in advanced.output, advanced.output
    shown = json.loads(runner.invoke(cli_app, ["workflows", "show", "1"]).output)
    assert shown["enrolments"] == {"completed": 1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"trigger": {"kind": "manual"}, "steps": []}))
    refused = runner.invoke(cli_app, ["workflows", "create", "--file", str(bad), "--name", "X"])
    assert refused.exit_code == 1
    assert "steps:" in refused.output
