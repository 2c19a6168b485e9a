"""Workspace settings: currency, time zone and phone region, validated (422 naming the
field), admins only, and the phone region used to read numbers without +country."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "../../etc/passwd"),
        ("default_currency", "EURO"),
        ("default_currency", "XYZ"),
        ("phone_region", "ZZ"),
        ("phone_region", "France"),
        ("name", "   "),
    ],
)
def test_a_bad_value_is_a_422_naming_its_field(client, admin, field, value):
    response = client.patch("/api/v1/workspace", json={field: value}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_settings_are_stored_and_only_admins_change_them(client, admin, api_user):
    before = client.get("/api/v1/workspace", headers=admin.headers).json()
    assert before["time_zone"] == "UTC" and before["phone_region"] == "US"
    assert before["default_currency"] == "USD"
    response = client.patch(
        "/api/v1/workspace",
        json={"default_currency": "eur", "time_zone": "Europe/Paris", "phone_region": "fr"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["default_currency"], body["time_zone"], body["phone_region"]) == (
        "EUR",
        "Europe/Paris",
        "FR",
    )
    manager = api_user("manager")
    refused = client.patch("/api/v1/workspace", json={"name": "Mine"}, headers=manager.headers)
    assert refused.status_code == 403


def test_phone_numbers_without_country_are_read_in_the_workspace_region(client, admin):
    client.patch("/api/v1/workspace", json={"phone_region": "GB"}, headers=admin.headers)
    response = client.post(
        "/api/v1/people",
        json={"first_name": "Ada", "identities": [{"kind": "phone", "value": "020 7946 0958"}]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    phones = [i["value"] for i in response.json()["identities"] if i["kind"] == "phone"]
    assert phones == ["+442079460958"]
