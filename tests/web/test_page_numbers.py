"""Numbers typed into page forms and URLs: anything that is not one is a clear 422 on its
field, never a 500 (``int("²")`` raised although ``"²".isdigit()``), and nothing changes."""

from __future__ import annotations

import pytest

from tenure.lifecycle.queries import stage_model
from tenure.retention.actions import load_config
from tests.pages import csrf_token, log_in_as

NOT_NUMBERS = ["²", "abc", "-1", "1.5", "99999999999999999999", "\u0661"]  # Arabic-Indic one


@pytest.fixture
def token(client, session) -> str:
    log_in_as(client, session, "admin", email="boss@example.com")
    return csrf_token(client.get("/lifecycle/settings").text)


def _stages(session) -> list[tuple[str, str, int]]:
    session.expire_all()
    return [(s.key, s.name, s.position) for s in stage_model(session).stages]


def _rules(session) -> list[tuple[int, str, int]]:
    session.expire_all()
    return [(r.id, r.name, r.priority) for r in stage_model(session).rules]


@pytest.mark.parametrize("position", NOT_NUMBERS)
def test_a_stage_position_that_is_not_a_whole_number_is_a_422(client, session, token, position):
    before = _stages(session)
    form = {"csrf_token": token, "key": "trial", "name": "Trial", "position": position}
    added = client.post("/lifecycle/settings/stages", data=form)
    assert added.status_code == 422 and "position" in added.text, added.text
    key = before[0][0]
    edit = {"csrf_token": token, "name": "Renamed", "position": position}
    edited = client.post(f"/lifecycle/settings/stages/{key}", data=edit)
    assert edited.status_code == 422 and "position" in edited.text
    assert _stages(session) == before


def test_a_blank_stage_position_puts_the_stage_last(client, session, token):
    form = {"csrf_token": token, "key": "trial", "name": "Trial", "position": " "}
    added = client.post("/lifecycle/settings/stages", data=form, follow_redirects=False)
    assert added.status_code == 303
    assert _stages(session)[-1][:2] == ("trial", "Trial")


@pytest.mark.parametrize("priority", NOT_NUMBERS)
def test_a_rule_priority_that_is_not_a_whole_number_is_a_422(client, session, token, priority):
    before = _rules(session)
    form = {
        "csrf_token": token,
        "stage": "lapsed",
        "name": "Lapsed again",
        "priority": priority,
        "condition": '{"metric": "orders", "op": ">=", "value": 1}',
    }
    added = client.post("/lifecycle/settings/rules", data=form)
    assert added.status_code == 422 and "priority" in added.text
    edited = client.post(f"/lifecycle/settings/rules/{before[0][0]}", data=form)
    assert edited.status_code == 422 and "priority" in edited.text
    assert _rules(session) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("risk_threshold", "nan"),
        ("risk_threshold", "inf"),
        ("clear_threshold", "1e999"),
        ("value_quantile", "lots"),
        ("fallback_owner_id", "abc"),
        ("fallback_owner_id", "99999999999999999999"),
    ],
)
def test_retention_settings_refuse_what_is_not_a_number(client, session, token, field, value):
    before = load_config(session).model_dump()
    response = client.post("/at-risk/settings", data={"csrf_token": token, field: value})
    assert response.status_code == 422 and field in response.text, response.text
    session.expire_all()
    assert load_config(session).model_dump() == before


def test_a_job_id_beyond_64_bits_is_a_422(client, token):
    response = client.post(
        "/jobs/99999999999999999999/retry", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 422
