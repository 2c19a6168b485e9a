"""Configuring the stage model through the API: stages, rules, validation, roles, audit."""

from __future__ import annotations

from sqlalchemy import select

from tenure.customers.models import Person
from tenure.identity.models import AuditEntry

from .helpers import person, stage_of

BASE = "/api/v1/lifecycle"


def _errors(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["field"] for e in response.json()["errors"]]


def test_model_lists_default_stages_and_rules(client, admin):
    model = client.get(f"{BASE}/model", headers=admin.headers).json()
    assert [s["key"] for s in model["stages"]][:3] == ["prospect", "lead", "new_customer"]
    assert [s["position"] for s in model["stages"]] == list(range(9))
    priorities = [r["priority"] for r in model["rules"]]
    assert priorities == sorted(priorities) and model["incremental"] is True
    metrics = client.get(f"{BASE}/metrics", headers=admin.headers).json()
    assert {"orders", "score.p_alive", "nps_last_score"} <= {m["name"] for m in metrics}


def test_custom_stage_and_rule_place_people(client, admin, session):
    # Given a new stage before Loyal and a first-priority rule reading a tag and an attribute
    stage = client.post(
        f"{BASE}/stages",
        json={"key": "vip", "name": "VIP", "position": 5, "description": "Hand-picked"},
        headers=admin.headers,
    )
    assert stage.status_code == 201, stage.text
    keys = [s["key"] for s in client.get(f"{BASE}/model", headers=admin.headers).json()["stages"]]
    assert keys.index("vip") == 5 and keys.index("loyal") == 6
    rule = client.post(
        f"{BASE}/rules",
        json={
            "stage": "vip",
            "name": "VIP tag on a pro plan",
            "priority": 1,
            "condition": {
                "all": [
                    {"tag": "vip"},
                    {"attribute": "plan", "op": "in", "value": ["pro", "enterprise"]},
                ]
            },
        },
        headers=admin.headers,
    )
    assert rule.status_code == 201, rule.text
    tagged = person(session, "Tagged", tags=["vip"])
    untagged = person(session, "Plain")
    for pid in (tagged, untagged):
        session.get(Person, pid).attributes = {"plan": "pro"}
    session.commit()

    # When they are evaluated
    response = client.post(
        f"{BASE}/evaluate", json={"person_ids": [tagged, untagged]}, headers=admin.headers
    )

    # Then only the tagged pro lands in VIP, the other falls through to Prospect
    assert response.json()["by_stage"] == {"vip": 1, "prospect": 1}
    assert stage_of(session, tagged) == "vip"

    # When the rule is disabled and the stage edited, then deleting the used stage is refused
    rule_id = rule.json()["id"]
    patched = client.patch(
        f"{BASE}/rules/{rule_id}", json={"enabled": False}, headers=admin.headers
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    renamed = client.patch(f"{BASE}/stages/vip", json={"name": "V.I.P."}, headers=admin.headers)
    assert renamed.json()["name"] == "V.I.P."
    assert client.delete(f"{BASE}/stages/vip", headers=admin.headers).status_code == 409
    assert client.delete(f"{BASE}/rules/{rule_id}", headers=admin.headers).status_code == 204
    # People and history still refer to it: renaming is the way, deleting is refused.
    assert client.delete(f"{BASE}/stages/vip", headers=admin.headers).status_code == 409

    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "lifecycle_rule").order_by(AuditEntry.id)
    ).all()
    assert [a.action for a in audit] == ["create", "update", "delete"]
    assert audit[1].changes == {"enabled": {"before": True, "after": False}}


def test_unused_stage_can_be_deleted(client, admin):
    client.post(f"{BASE}/stages", json={"key": "trial", "name": "Trial"}, headers=admin.headers)
    assert client.delete(f"{BASE}/stages/trial", headers=admin.headers).status_code == 204
    keys = [s["key"] for s in client.get(f"{BASE}/model", headers=admin.headers).json()["stages"]]
    assert "trial" not in keys
    assert client.delete(f"{BASE}/stages/trial", headers=admin.headers).status_code == 404


def test_invalid_rules_are_422_naming_the_field(client, admin):
    def rule(condition, **extra):
        body = {"stage": "lead", "name": "Bad", "priority": 5, "condition": condition, **extra}
        return client.post(f"{BASE}/rules", json=body, headers=admin.headers)

    leaf = {"metric": "orders", "op": ">=", "value": 1}
    assert _errors(rule({"all": [leaf, {**leaf, "op": "~"}]})) == ["condition.all.1.op"]
    assert _errors(rule({"any": [{"metric": "order_count", "op": ">", "value": 1}]})) == [
        "condition.any.0.metric"
    ]
    assert _errors(rule({**leaf, "value": "two"})) == ["condition.value"]
    assert _errors(rule({"not": {"events": {"type": "Ticket Opened"}, "op": ">", "value": 0}})) == [
        "condition.not.events.type"
    ]
    assert _errors(
        rule({"events": {"type": "ticket_opened", "within_days": 0}, "op": ">", "value": 0})
    ) == ["condition.events.within_days"]
    assert _errors(rule({"metric": "score.clv_percentile", "op": ">=", "value": 80})) == [
        "condition.value"
    ]
    assert _errors(rule({"metric": "score.rfm_segment", "op": "<", "value": "Loyal"})) == [
        "condition.op"
    ]
    assert _errors(rule({**leaf, "op": "set"})) == ["condition.value"]
    assert _errors(rule({"metric": "orders", "op": ">=", "value": 1, "extra": 1})) == [
        "condition.extra"
    ]
    assert _errors(rule({"every": []})) == ["condition"]
    assert _errors(rule(leaf, stage="gold")) == ["stage"]
    assert _errors(rule(leaf, priority=-1)) == ["priority"]
    missing = client.post(
        f"{BASE}/rules",
        json={"stage": "lead", "priority": 1, "condition": leaf},
        headers=admin.headers,
    )
    assert _errors(missing) == ["name"]
    bad_key = client.post(
        f"{BASE}/stages", json={"key": "Big Fish", "name": "x"}, headers=admin.headers
    )
    assert _errors(bad_key) == ["key"]
    duplicate = client.post(
        f"{BASE}/stages", json={"key": "lead", "name": "x"}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    rule_id = client.get(f"{BASE}/model", headers=admin.headers).json()["rules"][0]["id"]
    patch = client.patch(
        f"{BASE}/rules/{rule_id}", json={"condition": {"all": "x"}}, headers=admin.headers
    )
    assert _errors(patch) == ["condition.all"]
    nulled = client.patch(f"{BASE}/rules/{rule_id}", json={"name": None}, headers=admin.headers)
    assert _errors(nulled) == ["name"]
    assert client.patch(f"{BASE}/rules/999999", json={}, headers=admin.headers).status_code == 404


def test_only_model_editors_change_the_model(client, api_user):
    sales, analyst, marketing = (
        api_user("sales"),
        api_user("analyst", "read"),
        api_user("marketing"),
    )
    body = {"key": "trial", "name": "Trial"}
    assert client.post(f"{BASE}/stages", json=body, headers=sales.headers).status_code == 403
    assert client.post(f"{BASE}/stages", json=body, headers=analyst.headers).status_code == 403
    assert client.get(f"{BASE}/model", headers=analyst.headers).status_code == 200
    assert client.get(f"{BASE}/funnel", headers=analyst.headers).status_code == 200
    assert client.post(f"{BASE}/stages", json=body, headers=marketing.headers).status_code == 201
