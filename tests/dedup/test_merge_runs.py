"""A scan is one merge run: listed, read and undone as a whole over HTTP and the CLI.

Through the real app and typer's CliRunner on both backends, asserting on the JSON, the
people rows, the merge rows and the audit log the test produced.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tenure.cli.context import cli_engine
from tenure.cli.main import app as cli_app
from tenure.config import get_settings
from tenure.customers.models import Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.dedup.models import Merge, MergeRun
from tenure.identity.models import AuditEntry
from tests.dedup.test_dedup_scan import write_base
from tests.pages import csrf_token, log_in_as

runner = CliRunner()


def _people(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Person)) or 0


def test_a_scan_is_a_run_that_undoes_as_a_whole(
    client, admin, api_user, session_factory, session: Session
) -> None:
    # Given a base with duplicates, previewed by a dry run
    write_base(session_factory, 300)
    before = _people(session)
    dry = client.post("/api/v1/duplicates/scan", json={"dry_run": True}, headers=admin.headers)
    assert dry.status_code == 200, dry.text
    preview = dry.json()
    assert preview["run_id"] is None and preview["counts"]["auto_pairs"] > 0
    sample = preview["merge_sample"]
    assert sample and all(m["evidence"] and m["left"]["name"] for m in sample)
    assert [m["score"] for m in sample] == sorted(m["score"] for m in sample)
    assert session.scalar(select(func.count()).select_from(MergeRun)) == 0

    # When the scan runs for real
    scanned = client.post("/api/v1/duplicates/scan", json={}, headers=admin.headers).json()
    run_id = scanned["run_id"]
    merged = scanned["counts"]["merged"]
    assert run_id and merged > 0
    assert preview["merges_planned"] == merged  # the base did not change in between
    assert _people(session) == before - merged

    # Then every merge carries the run, and the run is listed and readable
    run_merges = session.scalars(select(Merge).where(Merge.run_id == run_id)).all()
    assert len(run_merges) == merged
    listed = client.get("/api/v1/merge-runs", headers=admin.headers).json()
    assert [r["id"] for r in listed["items"]] == [run_id]
    got = client.get(f"/api/v1/merge-runs/{run_id}", headers=admin.headers).json()
    assert got["merges"] == merged and got["merges_in_force"] == merged
    assert got["counts"]["merged"] == merged and got["finished_at"]
    merge_out = client.get(f"/api/v1/merges/{run_merges[0].id}", headers=admin.headers).json()
    assert merge_out["run_id"] == run_id

    # A read-only actor can neither undo nor scan
    reader = api_user("analyst")
    refused = client.post(f"/api/v1/merge-runs/{run_id}/undo", headers=reader.headers)
    assert refused.status_code == 403
    assert (
        client.post("/api/v1/duplicates/scan", json={}, headers=reader.headers).status_code == 403
    )
    assert client.get(f"/api/v1/merge-runs/{run_id}", headers=reader.headers).status_code == 200

    # One merge undone by hand first: the run undoes the others and does not fail on it
    by_hand = run_merges[0].id
    assert client.post(f"/api/v1/merges/{by_hand}/undo", headers=admin.headers).status_code == 200
    undone = client.post(f"/api/v1/merge-runs/{run_id}/undo", headers=admin.headers)
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert sorted(body["undone"]) == sorted(m.id for m in run_merges if m.id != by_hand)
    assert body["skipped"] == [] and body["merges_in_force"] == 0 and body["undone_at"]
    session.expire_all()
    assert _people(session) == before
    assert all(m.undone_at for m in session.scalars(select(Merge).where(Merge.run_id == run_id)))

    again = client.post(f"/api/v1/merge-runs/{run_id}/undo", headers=admin.headers)
    assert again.status_code == 409
    assert client.post("/api/v1/merge-runs/999999/undo", headers=admin.headers).status_code == 404
    assert client.get("/api/v1/merge-runs/999999", headers=admin.headers).status_code == 404
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "undo_merge_run")).one()
    assert audit.actor_id == admin.id and audit.changes["undone"] == merged - 1


def test_a_run_skips_a_merge_whose_survivor_was_merged_again(
    client, admin, session_factory, session: Session
) -> None:
    write_base(session_factory, 300)
    run_id = client.post("/api/v1/duplicates/scan", json={}, headers=admin.headers).json()["run_id"]
    merge = session.scalars(select(Merge).where(Merge.run_id == run_id)).first()
    assert merge is not None
    stranger = client.post(
        "/api/v1/people", json={"first_name": "Zed", "last_name": "Quill"}, headers=admin.headers
    ).json()["id"]
    # The run's survivor is merged away into someone else afterwards
    later = client.post(
        f"/api/v1/people/{stranger}/merge",
        json={"other_id": merge.survivor_id, "keep_id": stranger},
        headers=admin.headers,
    )
    assert later.status_code == 201, later.text

    body = client.post(f"/api/v1/merge-runs/{run_id}/undo", headers=admin.headers).json()

    assert merge.id in {s["merge_id"] for s in body["skipped"]}
    assert any(f"undo merge {later.json()['id']} first" in s["reason"] for s in body["skipped"])
    assert body["undone"] and merge.id not in body["undone"]
    assert any(note.startswith(f"merge {merge.id} not undone") for note in body["undo_notes"])


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TENURE_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    cli_engine.cache_clear()
    engine = create_db_engine(fresh_database_url)
    write_base(make_session_factory(engine), 200)
    engine.dispose()
    yield fresh_database_url
    cli_engine().dispose()
    get_settings.cache_clear()
    cli_engine.cache_clear()


def test_cli_undo_run_restores_every_person(database: str) -> None:
    scanned = runner.invoke(cli_app, ["duplicates", "scan"])
    assert scanned.exit_code == 0, scanned.output
    engine = create_db_engine(database)
    factory = make_session_factory(engine)
    with factory() as session:
        run = session.scalars(select(MergeRun)).one()
        merges = session.scalar(select(func.count()).where(Merge.run_id == run.id))
        assert merges and _people(session) == 200 - merges
    assert f"tenure duplicates undo-run {run.id}" in scanned.output

    undone = runner.invoke(cli_app, ["duplicates", "undo-run", str(run.id)])

    assert undone.exit_code == 0, undone.output
    assert f"Merge run {run.id} undone: {merges} merges undone." in undone.output
    with factory() as session:
        assert _people(session) == 200
        assert session.get(MergeRun, run.id).undone_at is not None
    again = runner.invoke(cli_app, ["duplicates", "undo-run", str(run.id)])
    assert again.exit_code == 1 and "already undone" in again.output
    missing = runner.invoke(cli_app, ["duplicates", "undo-run", "999999"])
    assert missing.exit_code == 1 and "not found" in missing.output
    engine.dispose()


def _person(client, admin, first: str, last: str) -> int:
    response = client.post(
        "/api/v1/people", json={"first_name": first, "last_name": last}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_merged_away_id_redirects_to_the_survivor_through_chains(
    client, admin, session: Session
) -> None:
    # Given B merged into A, then A merged into C
    a, b, c = (
        _person(client, admin, first, last)
        for first, last in (("Ann", "Lee"), ("Bo", "Ng"), ("Cy", "Ho"))
    )
    for keep, other in ((a, b), (c, a)):
        merged = client.post(
            f"/api/v1/people/{keep}/merge",
            json={"other_id": other, "keep_id": keep},
            headers=admin.headers,
        )
        assert merged.status_code == 201, merged.text

    # Then both merged-away ids answer 308 to C, and C itself answers 200
    for gone in (a, b):
        response = client.get(
            f"/api/v1/people/{gone}", headers=admin.headers, follow_redirects=False
        )
        assert response.status_code == 308
        assert response.headers["location"] == f"/api/v1/people/{c}"
    followed = client.get(f"/api/v1/people/{b}", headers=admin.headers)
    assert followed.status_code == 200 and followed.json()["id"] == c
    # A deleted (never merged) person and an unknown id stay 404
    d = _person(client, admin, "Di", "Ro")
    assert client.delete(f"/api/v1/people/{d}", headers=admin.headers).status_code == 204
    assert client.get(f"/api/v1/people/{d}", headers=admin.headers).status_code == 404
    assert client.get("/api/v1/people/99999999", headers=admin.headers).status_code == 404

    # And the person page redirects the same way
    log_in_as(client, session, "analyst", email="viewer@example.com")
    page = client.get(f"/people/{b}", follow_redirects=False)
    assert page.status_code == 307 and page.headers["location"] == f"/people/{c}"
    assert client.get(f"/people/{d}").status_code == 404


def test_the_scan_form_runs_only_when_confirmed(client, session: Session) -> None:
    log_in_as(client, session, "admin", email="ops@example.com")
    token = csrf_token(client.get("/duplicates").text)

    unconfirmed = client.post("/duplicates/scan", data={"csrf_token": token})

    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.text
    assert session.scalar(select(func.count()).select_from(MergeRun)) == 0
    preview = client.post("/duplicates/scan/preview", data={"csrf_token": token})
    assert preview.status_code == 200 and 'id="confirm-scan"' in preview.text
    assert session.scalar(select(func.count()).select_from(MergeRun)) == 0
    confirmed = client.post(
        "/duplicates/scan", data={"csrf_token": token, "confirm": "yes"}, follow_redirects=False
    )
    assert confirmed.status_code == 303 and "done=run-" in confirmed.headers["location"]
    assert session.scalar(select(func.count()).select_from(MergeRun)) == 1
