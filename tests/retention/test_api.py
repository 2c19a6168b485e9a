"""The retention and next-best-action API over HTTP, through the real app."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tenure.identity.models import AuditEntry
from tenure.retention.actions import record_nba_rules, refresh_retention

from .history import AS_OF, add_event, person, score
from .test_nba import WINDOW, build


def _at_risk_workspace(session):
    big, small = person(session, "Bea Big"), person(session, "Sid Small")
    score(session, big, clv_minor=80_000)
    score(session, small, clv_minor=5_000)
    for who in (big, small):
        for days in (1, 2, 3):
            add_event(session, who, AS_OF - timedelta(days=days), "complaint")
    add_event(
        session, small, AS_OF - timedelta(days=4), "survey_answered",
        payload={"survey": "nps", "score": 2},
    )  # fmt: skip
    refresh_retention(session=session, as_of=AS_OF)
    session.commit()
    return big, small


def test_at_risk_list_and_person_risk(session, client, api_user):
    big, small = _at_risk_workspace(session)
    reader = api_user("analyst", scope="read")

    # The list: value at risk first, reasons in words, a keyset cursor
    assert client.get("/api/v1/retention/at-risk").status_code == 401
    response = client.get("/api/v1/retention/at-risk?limit=1", headers=reader.headers)
    assert response.status_code == 200
    body = response.json()
    [first] = body["items"]
    assert first["person_id"] == big and first["name"] == "Bea Big"
    assert first["reasons"][0]["text"] == "3 complaints in 30 days (last on 2024-10-30)"
    assert first["value_at_risk_minor"] == round(80_000 * first["risk"])
    assert body["refresh"]["customers_with_signals"] == 2
    following = client.get(
        f"/api/v1/retention/at-risk?limit=1&cursor={body['next_cursor']}", headers=reader.headers
    ).json()
    assert [i["person_id"] for i in following["items"]] == [small]
    assert following["next_cursor"] is None

    # One customer's risk, with both signals and the open alert episode
    risk = client.get(f"/api/v1/people/{small}/risk", headers=reader.headers).json()
    assert [r["signal"] for r in risk["reasons"]] == ["complaint", "detractor"]
    assert risk["reasons"][1]["text"] == "NPS 2 on 2024-10-27"
    assert risk["open_alert"]["risk_at_open"] == risk["risk"]
    assert client.get("/api/v1/people/999999/risk", headers=reader.headers).status_code == 404

    alerts = client.get("/api/v1/retention/alerts", headers=reader.headers).json()["items"]
    assert {a["person_id"] for a in alerts} == {big, small}


def test_settings_are_tuned_by_managers(session, client, api_user):
    manager, analyst = api_user("manager"), api_user("analyst")
    current = client.get("/api/v1/retention/settings", headers=analyst.headers).json()
    assert current["risk_threshold"] == 0.5 and current["weights"]["overdue"] == 0.55

    denied = client.patch(
        "/api/v1/retention/settings", json={"risk_threshold": 0.7}, headers=analyst.headers
    )
    assert denied.status_code == 403
    invalid = client.patch(
        "/api/v1/retention/settings", json={"clear_threshold": 0.9}, headers=manager.headers
    )
    assert invalid.status_code == 422
    assert (
        invalid.json()["errors"][0]["reason"] == "clear_threshold must be lower than risk_threshold"
    )
    unknown = client.patch("/api/v1/retention/settings", json={"mood": 1}, headers=manager.headers)
    assert unknown.status_code == 422

    changed = client.patch(
        "/api/v1/retention/settings",
        json={"risk_threshold": 0.7, "value_quantile": 0.9, "fallback_owner_id": manager.id},
        headers=manager.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["risk_threshold"] == 0.7
    assert (
        client.get("/api/v1/retention/settings", headers=analyst.headers).json()[
            "fallback_owner_id"
        ]
        == manager.id
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "retention_settings")
    ).one()
    assert entry.actor_id == manager.id
    assert entry.changes["value_quantile"] == {"before": 0.8, "after": 0.9}


def test_next_best_action_and_rules(session, client, api_user):
    people = build(session)
    record_nba_rules(session=session, as_of=AS_OF, window_days=WINDOW, min_support=3)
    session.commit()
    reader = api_user("sales", scope="read")

    rules = client.get("/api/v1/nba/rules?sort=lift", headers=reader.headers).json()
    assert rules["run"]["window_days"] == WINDOW and rules["run"]["buyers"] == 28
    [rule] = rules["items"]
    assert (rule["antecedent"], rule["consequent"], rule["support_count"]) == ("A", "B", 5)
    assert rule["median_lag_days"] == 60 and round(rule["lift"], 4) == 2.0833
    assert client.get("/api/v1/nba/rules?sort=size", headers=reader.headers).status_code == 422
    skus = client.get("/api/v1/nba/rules?level=sku", headers=reader.headers).json()["items"]
    assert [r["consequent"] for r in skus] == ["SKU-B"]

    response = client.get(
        f"/api/v1/people/{people['recent']}/next-best-action",
        params={"as_of": AS_OF.isoformat()},
        headers=reader.headers,
    )
    assert response.status_code == 200
    [offer] = response.json()["offers"]
    assert offer["offer"] == "B" and offer["median_lag_days"] == 60
    assert offer["offer_on"] == str((AS_OF - timedelta(days=20)).date() + timedelta(days=60))
    missing = client.get("/api/v1/people/999999/next-best-action", headers=reader.headers)
    assert missing.status_code == 404
