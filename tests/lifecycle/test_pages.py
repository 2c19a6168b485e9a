"""The lifecycle pages render for a logged-in user; the settings page edits rules."""

from __future__ import annotations

from tenure.lifecycle.actions import evaluate_people
from tenure.lifecycle.queries import stage_model
from tests.pages import csrf_token, log_in_as

from .helpers import AS_OF, days_ago, event, order, person, store


def test_pages_render_funnel_time_in_stage_and_journeys(client, session):
    people = [person(session, f"p{i}") for i in range(3)]
    store(session, [order(people[0], days_ago(30)), event(people[1], "visit", days_ago(20))])
    evaluate_people(session=session, person_ids=people, as_of=AS_OF)
    log_in_as(client, session, "analyst")

    funnel = client.get("/lifecycle")
    assert funnel.status_code == 200
    assert 'id="chart-funnel"' in funnel.text and 'data-stage="new_customer"' in funnel.text
    km = client.get("/lifecycle/time-in-stage?stage=lead")
    assert km.status_code == 200 and 'id="chart-km"' in km.text and 'id="chart-cohorts"' in km.text
    journeys = client.get("/lifecycle/journeys?stall_days=10")
    assert journeys.status_code == 200 and "First visit" in journeys.text
    assert client.get("/lifecycle/time-in-stage?stage=nope").status_code == 422
    settings = client.get("/lifecycle/settings")
    assert "Read-only" in settings.text


def test_settings_page_edits_a_rule_and_reports_bad_json(client, session):
    log_in_as(client, session, "marketing")
    page = client.get("/lifecycle/settings")
    assert page.status_code == 200 and "Add rule" in page.text
    token = csrf_token(page.text)
    rule = stage_model(session).rules[0]
    form = {
        "csrf_token": token,
        "stage": "lapsed",
        "name": "Lapsed: renamed",
        "priority": "11",
        "condition": '{"all": [{"metric": "orders", "op": ">=", "value": 1}]}',
        "enabled": "1",
    }
    response = client.post(
        f"/lifecycle/settings/rules/{rule.id}", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    session.expire_all()
    edited = next(r for r in stage_model(session).rules if r.id == rule.id)
    assert (edited.name, edited.priority) == ("Lapsed: renamed", 11)

    bad = client.post(f"/lifecycle/settings/rules/{rule.id}", data={**form, "condition": "{all"})
    assert bad.status_code == 422 and "condition" in bad.text
    wrong_op = {**form, "condition": '{"metric": "orders", "op": "=>", "value": 1}'}
    bad = client.post(f"/lifecycle/settings/rules/{rule.id}", data=wrong_op)
    assert bad.status_code == 422 and "condition.op" in bad.text

    added = client.post(
        "/lifecycle/settings/stages",
        data={
            "csrf_token": token,
            "key": "trial",
            "name": "Trial",
            "in_funnel": "1",
            "position": "1",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert [s.key for s in stage_model(session).stages][:3] == ["prospect", "trial", "lead"]
