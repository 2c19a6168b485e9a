"""The jobs API over HTTP (admins only): health, list, one job, retry, cancel."""

from __future__ import annotations

from sqlalchemy import select, update

from tenure.identity.models import AuditEntry
from tenure.jobs import enqueue
from tenure.jobs.models import Job
from tenure.jobs.registry import Schedule
from tenure.jobs.schedules import sync_schedules


def test_admins_see_the_queue_and_retry_and_cancel(session, client, api_user):
    admin, analyst = api_user("admin"), api_user("analyst", scope="read")
    waiting = enqueue(session=session, task="test.write_effect", payload={"value": "a"})
    dead = enqueue(session=session, task="test.write_effect")
    session.execute(
        update(Job).where(Job.id == dead).values(state="dead", attempts=5, error="Boom: no")
    )
    sync_schedules(session, [Schedule("nightly-test", "test.write_effect", "0 3 * * *")])
    session.commit()

    # Health: counts, the lag of the oldest waiting job, schedules
    health = client.get("/api/v1/jobs/health", headers=admin.headers)
    assert health.status_code == 200
    body = health.json()
    assert body["counts"]["queued"] == 1 and body["counts"]["dead"] == 1
    assert body["oldest_waiting"]["id"] == waiting
    assert body["lag_seconds"] >= 0
    assert [s["name"] for s in body["schedules"]] == ["nightly-test"]
    assert body["schedules"][0]["last_run_at"] is None

    # The list filters by state; one job carries its error
    dead_jobs = client.get("/api/v1/jobs?state=dead", headers=admin.headers).json()
    assert [j["id"] for j in dead_jobs["items"]] == [dead]
    assert client.get(f"/api/v1/jobs/{dead}", headers=admin.headers).json()["error"] == "Boom: no"
    bad = client.get("/api/v1/jobs?state=sleeping", headers=admin.headers)
    assert bad.status_code == 422 and "state" in bad.text
    assert client.get("/api/v1/jobs/999999", headers=admin.headers).status_code == 404

    # Retry a dead job, cancel a waiting one; both audited; wrong states are conflicts
    retried = client.post(f"/api/v1/jobs/{dead}/retry", headers=admin.headers)
    assert retried.status_code == 200 and retried.json()["state"] == "queued"
    assert retried.json()["attempts"] == 0
    cancelled = client.post(f"/api/v1/jobs/{waiting}/cancel", headers=admin.headers)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert client.post(f"/api/v1/jobs/{dead}/retry", headers=admin.headers).status_code == 409
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "job").order_by(AuditEntry.id)
    ).all()
    assert actions == ["retry", "cancel"]

    # An analyst sees nothing of it
    for path in ("/api/v1/jobs/health", "/api/v1/jobs", f"/api/v1/jobs/{dead}"):
        assert client.get(path, headers=analyst.headers).status_code == 403
    assert client.post(f"/api/v1/jobs/{dead}/cancel", headers=analyst.headers).status_code == 403
