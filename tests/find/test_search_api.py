"""GET /api/v1/search: people by phone in any format, email and name; organizations;
segments; bad input refused naming ``q``."""

from __future__ import annotations

import pytest


def _post(client, admin, path: str, body: dict) -> dict:
    response = client.post(path, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def found(client, admin):
    org = _post(
        client, admin, "/api/v1/organizations", {"name": "Bluebird Media", "domain": "bluebird.io"}
    )
    ada = _post(
        client,
        admin,
        "/api/v1/people",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "organization_id": org["id"],
            "identities": [
                {"kind": "email", "value": "Ada.Lovelace@Analytical.example"},
                {"kind": "phone", "value": "+1 415 555 0199"},
            ],
        },
    )
    bea = _post(
        client,
        admin,
        "/api/v1/people",
        {
            "first_name": "Beatrice",
            "last_name": "Lovell",
            "identities": [{"kind": "phone", "value": "+44 20 7946 0958"}],
        },
    )
    segment = _post(
        client,
        admin,
        "/api/v1/segments",
        {"name": "Loyal bluebirds", "filter": "count(order) >= 1"},
    )
    return {"org": org, "ada": ada, "bea": bea, "segment": segment}


def _search(client, admin, q: str, **params) -> dict:
    response = client.get("/api/v1/search", params={"q": q, **params}, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _people(client, admin, q: str) -> list[int]:
    return [p["id"] for p in _search(client, admin, q)["people"]]


@pytest.mark.parametrize(
    "typed", ["(415) 555-0199", "415.555.0199", "+1 415 555 0199", "4155550199", "001 415 555 0199"]
)
def test_a_phone_in_any_format_finds_the_person(client, admin, found, typed):
    people = _search(client, admin, typed)["people"]
    assert [p["id"] for p in people] == [found["ada"]["id"]]
    assert people[0]["matched"] == "phone"
    assert people[0]["phone"] == "+14155550199"
    assert people[0]["url"] == f"/people/{found['ada']['id']}"


def test_a_phone_still_being_typed_finds_by_its_digits_so_far(client, admin, found):
    assert _people(client, admin, "(415) 555-01") == [found["ada"]["id"]]
    assert _people(client, admin, "+44 20 7946") == [found["bea"]["id"]]
    assert _people(client, admin, "(415) 555-0100") == []  # a whole other number


def test_email_by_prefix_any_case(client, admin, found):
    people = _search(client, admin, "ADA.LOVE")["people"]
    assert [p["id"] for p in people] == [found["ada"]["id"]]
    assert people[0]["email"] == "ada.lovelace@analytical.example"
    assert _people(client, admin, "ada.lovelace@analytical.example") == [found["ada"]["id"]]


def test_name_by_last_name_prefix_and_full_name(client, admin, found):
    people = _search(client, admin, "lovel")["people"]
    assert {p["id"] for p in people} == {found["ada"]["id"], found["bea"]["id"]}
    assert _people(client, admin, "ada lov") == [found["ada"]["id"]]
    assert _people(client, admin, "Beatrice") == [found["bea"]["id"]]
    assert _people(client, admin, "Nobody Here") == []
    ada = _search(client, admin, "ada lov")["people"][0]
    assert ada["name"] == "Ada Lovelace" and ada["organization"] == "Bluebird Media"


def test_organizations_by_name_or_domain_and_segments_by_name(client, admin, found):
    org = {"id": found["org"]["id"], "name": "Bluebird Media", "domain": "bluebird.io"}
    by_name = _search(client, admin, "bird med")
    assert by_name["organizations"] == [{**org, "url": f"/organizations/{org['id']}"}]
    assert _search(client, admin, "bluebird.i")["organizations"][0]["id"] == org["id"]
    answer = _search(client, admin, "bluebird")
    assert [s["id"] for s in answer["segments"]] == [found["segment"]["id"]]
    assert answer["segments"][0]["url"] == f"/segments/{found['segment']['id']}"
    assert [o["id"] for o in answer["organizations"]] == [org["id"]]


def test_limit_per_group(client, admin, found):
    assert len(_search(client, admin, "lovel", limit=1)["people"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "x" * 201}, "q"), ({"q": "   "}, "q"), ({}, "q"), ({"q": "ada", "limit": 0}, "limit")],
)
def test_bad_input_is_a_422_naming_the_field(client, admin, params, field):
    response = client.get("/api/v1/search", params=params, headers=admin.headers)
    assert response.status_code == 422
    assert field in response.text


def test_like_wildcards_are_literal(client, admin, found):
    assert _search(client, admin, "%")["people"] == []
    assert _search(client, admin, "_")["organizations"] == []


def test_the_page_suggestions_need_a_login(client, found):
    response = client.get("/search/suggest", params={"q": "ada"}, follow_redirects=False)
    assert response.status_code in (303, 401)
