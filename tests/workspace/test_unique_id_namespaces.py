"""The "one record per person" id namespaces: set over HTTP and the CLI, read by the matcher."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app
from tenure.config import get_settings
from tenure.dedup.frame import load_base
from tenure.identity.models import AuditEntry

runner = CliRunner()


def _person(client, admin, first: str, billing_id: str, import_row: str) -> int:
    body = {
        "first_name": first,
        "last_name": "Rossi",
        "identities": [
            {"kind": "external", "namespace": "billing", "value": billing_id},
            {"kind": "external", "namespace": "import", "value": import_row},
        ],
    }
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_admin_declares_namespaces_and_the_matcher_reads_only_those(
    client, admin, session: Session
) -> None:
    ines = _person(client, admin, "Ines", "100", "row-1")
    assert (
        client.get("/api/v1/workspace", headers=admin.headers).json()["unique_id_namespaces"] == []
    )
    with session.begin_nested():
        before = load_base(session).records.set_index("record_id")
    assert before.loc[ines, "external_ids"] == []

    response = client.patch(
        "/api/v1/workspace",
        json={"unique_id_namespaces": ["Billing", "billing"]},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["unique_id_namespaces"] == ["billing"]
    session.expire_all()
    records = load_base(session).records.set_index("record_id")
    # The billing id is evidence; the import's row id stays neutral.
    assert records.loc[ines, "external_ids"] == ["billing:100"]
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "set_id_namespaces")
    ).one()
    assert audit.changes == {"before": [], "after": ["billing"]}


def test_only_an_admin_may_declare_and_bad_names_are_refused(client, admin, api_user) -> None:
    for role in ("sales", "analyst"):
        user = api_user(role)
        response = client.patch(
            "/api/v1/workspace", json={"unique_id_namespaces": ["billing"]}, headers=user.headers
        )
        assert response.status_code == 403, response.text
        assert client.get("/api/v1/workspace", headers=user.headers).status_code == 200

    response = client.patch(
        "/api/v1/workspace", json={"unique_id_namespaces": ["bad name!"]}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "unique_id_namespaces"
    missing = client.patch("/api/v1/workspace", json={}, headers=admin.headers)
    assert missing.status_code == 422
    assert "unique_id_namespaces" in missing.text


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()


def test_the_cli_shows_sets_and_clears_the_namespaces(database: str) -> None:
    shown = runner.invoke(app, ["duplicates", "id-namespaces"])
    assert shown.exit_code == 0, shown.output
    assert "namespaces: none" in shown.output

    declared = runner.invoke(app, ["duplicates", "id-namespaces", "billing", "crm"])
    assert declared.exit_code == 0, declared.output
    assert "namespaces: billing, crm" in runner.invoke(app, ["duplicates", "id-namespaces"]).output

    refused = runner.invoke(app, ["duplicates", "id-namespaces", "no spaces"])
    assert refused.exit_code == 1 and "unique_id_namespaces" in refused.output

    cleared = runner.invoke(app, ["duplicates", "id-namespaces", "--clear"])
    assert cleared.exit_code == 0 and "namespaces: none" in cleared.output
