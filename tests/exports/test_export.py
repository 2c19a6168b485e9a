"""Exports: CSV injection escaping, Parquet read back with pyarrow, filters, HTTP streaming."""

from __future__ import annotations

import csv
import io

import orjson
import pyarrow.parquet as pq

from tenure.customers.queries import PeopleFilter
from tenure.exports.streaming import EventFilter, escape_cell, export_events, export_people


def _person(client, admin, **body):
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _people(client, admin):
    response = client.post(
        "/api/v1/attributes",
        json={"key": "seats", "label": "Seats", "type": "number"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    evil = _person(
        client,
        admin,
        first_name='=HYPERLINK("http://evil")',
        last_name="@SUM(A1)",
        job_title="-2+3",
        identities=[
            {"kind": "email", "value": "evil@example.com"},
            {"kind": "phone", "value": "+1 202 555 0172"},
        ],
        tags=["export-test", "+plus"],
        attributes={"seats": 12},
        consents=[{"channel": "email", "purpose": "marketing", "status": "granted"}],
    )
    plain = _person(
        client,
        admin,
        first_name="Plain",
        last_name="Person",
        identities=[{"kind": "external", "namespace": "hubspot", "value": "77"}],
        tags=["export-test"],
    )
    _person(client, admin, first_name="Other", last_name="Person")
    events = [
        {
            "type": "order",
            "occurred_at": "2026-03-01T10:00:00Z",
            "person_id": evil["id"],
            "amount_minor": 1500,
            "currency": "EUR",
            "payload": {"note": "=cmd|' /C calc'!A0"},
        },
        {"type": "visit", "occurred_at": "2026-03-02T10:00:00Z", "person_id": plain["id"]},
    ]
    assert client.post("/api/v1/events", json=events, headers=admin.headers).status_code == 200
    return evil, plain


def test_escape_cell_follows_owasp():
    for value in ("=1+1", "+1+1", "-1", "@x", "\tx", "\rx", "+1)", "+SUM(A1)", "+1\n=2"):
        assert escape_cell(value) == "'" + value
    for value in ("+1 202", "+1;=2", "+1;", "+" + "1" * 16, "+44;+1-1"):
        assert escape_cell(value) == "'" + value
    assert escape_cell("plain") == "plain" and escape_cell(-5) == -5
    # A validated E.164 phone (or a list of them) is no formula: exported as it is
    assert escape_cell("+442079460958") == "+442079460958"
    assert escape_cell("+442079460958;+14155550100") == "+442079460958;+14155550100"
    assert escape_cell("+44 20 7946") == "'+44 20 7946"
    assert escape_cell("+1+cmd") == "'+1+cmd"


def test_e164_phones_are_exported_as_they_are():
    assert escape_cell("+14155550100") == "+14155550100"
    assert escape_cell("+14155550100;+442071838750") == "+14155550100;+442071838750"


def test_people_csv_is_flat_escaped_and_filtered(client, admin, session_factory):
    evil, plain = _people(client, admin)
    data = b"".join(
        export_people(session_factory, format="csv", filters=PeopleFilter(tag="export-test"))
    )
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [int(r["id"]) for r in rows] == [evil["id"], plain["id"]]
    first = rows[0]
    assert first["first_name"] == '\'=HYPERLINK("http://evil")'
    assert first["last_name"] == "'@SUM(A1)" and first["job_title"] == "'-2+3"
    assert first["emails"] == "evil@example.com" and first["phones"] == "+12025550172"
    assert first["tags"] == "'+plus;export-test"
    assert first["consents"] == "email.marketing=granted" and first["attr.seats"] == "12"
    assert rows[1]["external_ids"] == "hubspot:77"


def test_people_parquet_and_jsonl_read_back(client, admin, session_factory):
    evil, plain = _people(client, admin)
    filters = PeopleFilter(tag="export-test")
    table = pq.read_table(
        io.BytesIO(b"".join(export_people(session_factory, format="parquet", filters=filters)))
    )
    assert table.num_rows == 2
    row = table.to_pylist()[0]
    assert row["id"] == evil["id"] and row["phones"] == ["+12025550172"]
    assert row["consents"] == [("email.marketing", "granted")]
    assert orjson.loads(row["attributes"]) == {"seats": 12}
    assert row["created_at"].tzinfo is not None

    lines = b"".join(export_people(session_factory, format="jsonl", filters=filters)).splitlines()
    people = [orjson.loads(line) for line in lines]
    assert [p["id"] for p in people] == [evil["id"], plain["id"]]
    assert people[0]["identities"][0]["original"] in ("evil@example.com", "+1 202 555 0172")


def test_events_export_filters_by_type_and_tag(client, admin, session_factory):
    evil, _ = _people(client, admin)
    filters = EventFilter(people=PeopleFilter(tag="export-test"), types=("order",))
    data = b"".join(export_events(session_factory, format="csv", filters=filters))
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == 1 and rows[0]["person_id"] == str(evil["id"])
    assert rows[0]["amount_minor"] == "1500"
    parquet = pq.read_table(
        io.BytesIO(b"".join(export_events(session_factory, format="parquet", filters=filters)))
    )
    assert parquet.column("type").to_pylist() == ["order"]


def test_export_over_http_streams_with_filters(client, admin):
    _, plain = _people(client, admin)
    response = client.get(
        "/api/v1/exports/people",
        params={"format": "csv", "tag": "export-test", "q": "plain"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="people.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [plain["id"]]

    parquet = client.get(
        "/api/v1/exports/people", params={"format": "parquet"}, headers=admin.headers
    )
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows >= 3
    events = client.get(
        "/api/v1/exports/events", params={"format": "jsonl", "type": "visit"}, headers=admin.headers
    )
    assert [orjson.loads(x)["person_id"] for x in events.content.splitlines()] == [plain["id"]]
    bad = client.get("/api/v1/exports/people", params={"format": "xls"}, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"
