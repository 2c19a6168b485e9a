"""Imports over HTTP: multipart uploads, reports, dry runs and 422s naming the field."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from tenure.customers.models import Person
from tenure.ingest.models import Import

DATA = Path(__file__).parent / "data"


def _upload(client, admin, kind, name, **data):
    with (DATA / name).open("rb") as handle:
        return client.post(
            f"/api/v1/imports/{kind}",
            files={"file": (name, handle, "application/octet-stream")},
            data=data,
            headers=admin.headers,
        )


def test_csv_upload_returns_the_import_record(client, admin, session):
    response = _upload(client, admin, "csv", "hubspot_contacts.csv", preset="hubspot-contacts")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed" and body["format"] == "csv"
    assert body["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 1,
    }
    assert body["rejected_rows"] == [
        {"line": 4, "column": "Phone Number", "reason": body["rejected_rows"][0]["reason"]}
    ]
    assert body["actor_id"] == admin.id and body["mapping"]["Record ID"] == "external:hubspot"
    assert len(body["file_sha256"]) == 64

    fetched = client.get(f"/api/v1/imports/{body['id']}", headers=admin.headers)
    assert fetched.status_code == 200, fetched.text
    fetched = fetched.json()
    assert fetched["counts"] == body["counts"]
    listed = client.get("/api/v1/imports", headers=admin.headers).json()["items"]
    assert body["id"] in [i["id"] for i in listed]

    again = _upload(client, admin, "csv", "hubspot_contacts.csv", preset="hubspot-contacts")
    assert again.json()["counts"]["unchanged"] == 2


def test_dry_run_over_http_writes_nothing(client, admin, session):
    before = session.scalar(select(func.count()).select_from(Person))
    imports = session.scalar(select(func.count()).select_from(Import))
    response = _upload(
        client,
        admin,
        "csv",
        "contacts.csv",
        mapping=json.dumps({"Plan": "ignore"}),
        dry_run="true",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True and body["id"] is None
    assert body["counts"]["created"] == 3 and body["counts"]["rejected"] == 5
    assert {(r["line"], r["column"]) for r in body["rejected_rows"]} >= {(4, "E-mail")}
    assert session.scalar(select(func.count()).select_from(Person)) == before
    assert session.scalar(select(func.count()).select_from(Import)) == imports


def test_other_formats_upload(client, admin):
    assert _upload(client, admin, "vcard", "contacts.vcf").json()["counts"]["created"] == 2
    assert _upload(client, admin, "jsonl", "people.jsonl").json()["counts"]["rejected"] == 3
    email = _upload(client, admin, "email", "single.eml", our_domain="acme.test")
    assert email.status_code == 201, email.text
    assert email.json()["counts"]["created"] == 1


def test_errors_name_the_field(client, admin, api_user):
    bad_target = _upload(
        client, admin, "csv", "contacts.csv", mapping=json.dumps({"Plan": "shoe_size"})
    )
    assert bad_target.status_code == 422
    assert bad_target.json()["errors"][0]["field"] == "mapping.Plan"

    not_json = _upload(client, admin, "csv", "contacts.csv", mapping="{nope")
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "mapping"

    bad_preset = _upload(client, admin, "csv", "contacts.csv", preset="zoho")
    assert bad_preset.json()["errors"][0]["field"] == "preset"

    missing = client.post("/api/v1/imports/csv", headers=admin.headers, data={"preset": ""})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"

    empty = client.post(
        "/api/v1/imports/vcard",
        files={"file": ("empty.vcf", b"", "text/vcard")},
        headers=admin.headers,
    )
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"

    analyst = api_user("analyst")
    forbidden = _upload(client, analyst, "csv", "contacts.csv")
    assert forbidden.status_code == 403
    assert client.get("/api/v1/imports", headers=analyst.headers).status_code == 200
