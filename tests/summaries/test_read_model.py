"""The read model against a fresh recomputation: after ingest, edits, a merge and its
undo, and the refreshes, the 360 served from the summary equals the old per-request
assembly (``profile.queries.person_360`` with the scores, stage and risk rows), and the
people list shows the same people as the source rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenure.customers import bulk
from tenure.customers.models import Person, PersonSummary
from tenure.customers.queries import PeopleFilter
from tenure.dedup.merge import merge_people, undo_merge
from tenure.lifecycle.actions import evaluate_all_stages
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.lists.columns import parse_columns, parse_sort
from tenure.lists.queries import View, view_page
from tenure.profile.queries import person_360
from tenure.retention.actions import refresh_retention
from tenure.retention.models import RiskScore
from tenure.scores.queries import person_scores
from tenure.scores.refresh import refresh_scores
from tenure.summaries.build import build_many
from tenure.summaries.documents import assemble
from tenure.summaries.rebuild import add_missing, rebuild_batch
from tenure.summaries.schemas import Person360
from tests.scores.workspace import AS_OF, generate


def recomputed(session: Session, person_id: int) -> dict[str, Any]:
    """The 360 as the endpoint assembled it before the read model, request by request."""
    stage = session.execute(
        select(
            LifecycleStage.key, LifecycleStage.name, PersonStage.entered_at, PersonStage.overridden
        )
        .join(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
        .where(PersonStage.person_id == person_id)
    ).first()
    risk = session.get(RiskScore, person_id)
    view = {
        **person_360(session, person_id),
        "scores": person_scores(session, person_id),
        "stage": stage._asdict() if stage else None,
        "risk": (
            {
                "risk": risk.risk,
                "as_of": risk.as_of,
                "value_at_risk_minor": risk.value_at_risk_minor,
                "currency": risk.currency,
                "reasons": risk.reasons,
            }
            if risk
            else None
        ),
    }
    return Person360.model_validate(view).model_dump(mode="json")


def served(client, admin, person_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/people/{person_id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def summary(session: Session, person_id: int) -> PersonSummary | None:
    session.expire_all()
    return session.get(PersonSummary, person_id)


def rebuild(session: Session) -> None:
    add_missing(session)
    while rebuild_batch(session):
        pass
    session.commit()


def assert_fresh_and_equal(session: Session, client, admin, person_id: int) -> None:
    """Stale or not, the served 360 is the recomputation; rebuilt, it still is, from the
    stored row."""
    assert served(client, admin, person_id) == recomputed(session, person_id)
    rebuild(session)
    row = summary(session, person_id)
    assert row is not None and row.stale is False and row.document
    assert served(client, admin, person_id) == recomputed(session, person_id)


def create(client, admin, **body) -> int:
    response = client.post("/api/v1/people", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def order(person_id: int, client_id: str, amount: int, currency: str = "EUR") -> dict:
    return {
        "type": "order",
        "occurred_at": "2026-03-01T10:00:00+01:00",
        "source": "shop",
        "client_event_id": client_id,
        "person_id": person_id,
        "currency": currency,
        "amount_minor": amount,
    }


def test_ingest_marks_the_touched_people_stale_and_the_360_shows_the_new_order(
    session, client, admin
):
    ada = create(client, admin, first_name="Ada", identities=[{"kind": "email", "value": "a@x.io"}])
    bob = create(client, admin, first_name="Bob")
    rebuild(session)
    before = served(client, admin, ada)
    assert before["orders"]["order_count"] == 0

    response = client.post(
        "/api/v1/events",
        json=[order(ada, "o-1", 2500), order(ada, "o-2", 700, "USD")],
        headers=admin.headers,
    )
    assert response.status_code in (200, 201, 207), response.text

    assert summary(session, ada).stale is True
    assert summary(session, bob).stale is False  # untouched, left alone
    after = served(client, admin, ada)
    assert after["orders"]["order_count"] == 2
    assert {m["currency"]: m["amount_minor"] for m in after["orders"]["revenue"]} == {
        "EUR": 2500,
        "USD": 700,
    }
    assert [e["client_event_id"] for e in after["recent_events"]][:2] == ["o-2", "o-1"] or {
        e["client_event_id"] for e in after["recent_events"]
    } >= {"o-1", "o-2"}
    assert_fresh_and_equal(session, client, admin, ada)


def test_edits_mark_stale_and_the_360_never_shows_the_old_summary(session, client, admin):
    ada = create(
        client,
        admin,
        first_name="Ada",
        tags=["vip"],
        identities=[{"kind": "email", "value": "a@x.io"}],
    )
    rebuild(session)

    patched = client.patch(
        f"/api/v1/people/{ada}",
        json={"tags": ["gold"], "identities": [{"kind": "email", "value": "ada@new.io"}]},
        headers=admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert summary(session, ada).stale is True
    view = served(client, admin, ada)
    assert view["tags"] == ["gold"]
    assert [i["value"] for i in view["identities"]] == ["ada@new.io"]
    assert_fresh_and_equal(session, client, admin, ada)

    consent = {"channel": "email", "purpose": "marketing", "status": "granted", "source": "form"}
    assert (
        client.post(
            f"/api/v1/people/{ada}/consents", json=consent, headers=admin.headers
        ).status_code
        == 201
    )
    assert summary(session, ada).stale is True
    assert served(client, admin, ada)["consents"][0]["status"] == "granted"
    assert_fresh_and_equal(session, client, admin, ada)

    task = client.post(
        f"/api/v1/people/{ada}/tasks", json={"title": "Call back"}, headers=admin.headers
    )
    assert task.status_code == 201, task.text
    assert [t["title"] for t in served(client, admin, ada)["open_tasks"]] == ["Call back"]
    assert_fresh_and_equal(session, client, admin, ada)
    done = client.patch(
        f"/api/v1/tasks/{task.json()['id']}", json={"done": True}, headers=admin.headers
    )
    assert done.status_code == 200, done.text
    assert served(client, admin, ada)["open_tasks"] == []
    assert_fresh_and_equal(session, client, admin, ada)

    note = client.post(
        f"/api/v1/people/{ada}/notes", json={"body": "Met at the fair"}, headers=admin.headers
    )
    assert note.status_code == 201, note.text
    assert [n["body"] for n in served(client, admin, ada)["notes"]] == ["Met at the fair"]
    assert_fresh_and_equal(session, client, admin, ada)

    bulk.add_tag(session=session, ids=[ada], tag="b2b", actor=None)
    assert summary(session, ada).stale is True
    assert served(client, admin, ada)["tags"] == ["b2b", "gold"]
    assert_fresh_and_equal(session, client, admin, ada)
    bulk.remove_tag(session=session, ids=[ada], tag="gold", actor=None)
    assert served(client, admin, ada)["tags"] == ["b2b"]
    assert_fresh_and_equal(session, client, admin, ada)


def test_renames_of_the_owner_and_organization_need_no_rebuild(session, client, admin):
    org = client.post("/api/v1/organizations", json={"name": "Acme"}, headers=admin.headers)
    assert org.status_code == 201, org.text
    ada = create(
        client, admin, first_name="Ada", organization_id=org.json()["id"], owner_id=admin.id
    )
    rebuild(session)
    renamed = client.patch(
        f"/api/v1/organizations/{org.json()['id']}",
        json={"name": "Acme Ltd"},
        headers=admin.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert summary(session, ada).stale is False
    assert served(client, admin, ada)["organization"]["name"] == "Acme Ltd"
    assert served(client, admin, ada) == recomputed(session, ada)


def test_a_merge_and_its_undo_leave_both_summaries_equal_to_a_recomputation(session, client, admin):
    keep = create(
        client,
        admin,
        first_name="Ada",
        tags=["vip"],
        identities=[{"kind": "email", "value": "a@x.io"}],
    )
    lose = create(
        client,
        admin,
        first_name="Ada",
        tags=["gift"],
        identities=[{"kind": "email", "value": "a2@x.io"}],
    )
    client.post("/api/v1/events", json=[order(lose, "m-1", 900)], headers=admin.headers)
    rebuild(session)

    merge = merge_people(
        session=session, survivor_id=keep, loser_id=lose, actor_id=None, source="manual"
    )
    session.commit()
    assert summary(session, keep).stale is True
    view = served(client, admin, keep)
    assert view["tags"] == ["gift", "vip"] and view["orders"]["order_count"] == 1
    assert (
        client.get(
            f"/api/v1/people/{lose}", headers=admin.headers, follow_redirects=False
        ).status_code
        == 308
    )
    assert_fresh_and_equal(session, client, admin, keep)

    undo_merge(session=session, merge_id=merge.id, actor_id=None)
    session.commit()
    assert summary(session, keep).stale is True and summary(session, lose).stale is True
    assert served(client, admin, keep)["orders"]["order_count"] == 0
    assert served(client, admin, lose)["orders"]["order_count"] == 1
    assert_fresh_and_equal(session, client, admin, keep)
    assert_fresh_and_equal(session, client, admin, lose)


def test_after_the_refreshes_the_360_shows_the_new_scores_stage_and_risk(
    session, session_factory, settings, client, admin
):
    ids = generate(session.connection(), customers=60)
    session.commit()
    rebuild(session)
    person_id = ids[0]
    assert served(client, admin, person_id)["scores"] is None

    refresh_scores(session_factory=session_factory, settings=settings, as_of=AS_OF)
    evaluate_all_stages(session_factory=session_factory, as_of=AS_OF)
    refresh_retention(session=session, as_of=AS_OF)
    session.commit()

    at_risk = session.scalars(select(RiskScore.person_id).order_by(RiskScore.person_id)).first()
    assert at_risk is not None
    view = served(client, admin, at_risk)
    assert view["scores"] is not None and view["stage"] is not None and view["risk"] is not None
    assert view == recomputed(session, at_risk)
    assert all(served(client, admin, p) == recomputed(session, p) for p in ids[:10])


def test_the_people_list_reads_the_cards_and_the_source_rows_where_stale(session, client, admin):
    ada = create(
        client,
        admin,
        first_name="Ada",
        tags=["vip"],
        identities=[{"kind": "email", "value": "a@x.io"}],
    )
    bob = create(client, admin, first_name="Bob", tags=["new"])
    rebuild(session)
    client.patch(f"/api/v1/people/{bob}", json={"tags": ["old"]}, headers=admin.headers)

    page = client.get("/api/v1/people?limit=2", headers=admin.headers)
    assert page.status_code == 200, page.text
    items = {p["id"]: p for p in page.json()["items"]}
    assert items[ada]["tags"] == ["vip"] and items[ada]["identities"][0]["value"] == "a@x.io"
    assert items[bob]["tags"] == ["old"]
    detail = recomputed(session, ada)
    assert items[ada] == {k: detail[k] for k in items[ada]}
    assert set(items[ada]) == {
        "id",
        "first_name",
        "last_name",
        "job_title",
        "organization",
        "owner",
        "identities",
        "tags",
        "attributes",
        "created_at",
        "updated_at",
    }


def test_a_card_built_from_an_older_row_of_the_person_is_never_served(session, client, admin):
    """The card stores the person's own columns; it is served only while its stamp is the
    person's ``updated_at``, even when a write forgot to mark the summary stale."""
    ada = create(client, admin, first_name="Ada", last_name="Lovelace")
    rebuild(session)
    stored = summary(session, ada)
    assert stored is not None and stored.source_updated_at is not None
    assert json.loads(stored.card)["first_name"] == "Ada"
    # What is served is the stored card: a marker written into it shows.
    people = PersonSummary.__table__
    marked = stored.card.replace('"first_name":"Ada"', '"first_name":"Ada (card)"')
    session.execute(people.update().where(people.c.person_id == ada).values(card=marked))
    session.commit()

    def names() -> tuple[str, str]:
        page = client.get("/api/v1/people?limit=5", headers=admin.headers).json()
        listed = next(p for p in page["items"] if p["id"] == ada)["first_name"]
        return listed, served(client, admin, ada)["first_name"]

    assert names() == ("Ada (card)", "Ada (card)")
    # A write to the person's row that does not mark the summary stale.
    later = stored.source_updated_at + timedelta(seconds=1)
    session.execute(
        update(Person).where(Person.id == ada).values(first_name="Augusta", updated_at=later)
    )
    session.commit()
    assert summary(session, ada).stale is False
    assert names() == ("Augusta", "Augusta")
    rebuild(session)  # the catch-up only rebuilds what is marked stale: nothing here
    assert names() == ("Augusta", "Augusta")


def test_the_batched_rebuild_assembles_what_the_one_person_assembly_does(session, client, admin):
    """Windows per person (20 events, 20 open tasks, 5 notes) in one statement each give
    the same documents as the per-person LIMIT statements, ties and NULL due dates too."""
    ada = create(client, admin, first_name="Ada", identities=[{"kind": "email", "value": "a@x.io"}])
    bob = create(client, admin, first_name="Bob", tags=["vip"])
    nobody = create(client, admin, first_name="Cy")
    events = [order(ada, f"a-{i}", 100 + i, "EUR" if i % 3 else "USD") for i in range(25)]
    events += [
        {**order(bob, f"b-{i}", 50), "type": "visit" if i % 2 else "order"} for i in range(7)
    ]
    events.append({**order(bob, "b-refund", 30), "type": "refund"})
    response = client.post("/api/v1/events", json=events, headers=admin.headers)
    assert response.status_code in (200, 201, 207), response.text
    for i in range(22):
        body = {
            "title": f"task {i}",
            **({"due_at": f"2026-04-{1 + i % 9:02d}T09:00:00Z"} if i % 4 else {}),
        }
        assert (
            client.post(f"/api/v1/people/{ada}/tasks", json=body, headers=admin.headers).status_code
            == 201
        )
    for i in range(7):
        client.post(
            f"/api/v1/people/{bob}/notes", json={"body": f"note {i}"}, headers=admin.headers
        )
    for status in ("granted", "withdrawn"):
        consent = {"channel": "email", "purpose": "marketing", "status": status, "source": "form"}
        client.post(f"/api/v1/people/{bob}/consents", json=consent, headers=admin.headers)

    many = build_many(session, [ada, bob, nobody, 10**9])
    assert set(many) == {ada, bob, nobody}
    for person_id in (ada, bob, nobody):
        assert many[person_id] == assemble(session, person_id)
    document = json.loads(many[ada].document)
    assert len(document["recent_events"]) == 20 and len(document["open_tasks"]) == 20
    assert len(json.loads(many[bob].document)["notes"]) == 5


def test_the_list_pages_read_the_cards_as_the_source_rows_would_show_them(session, client, admin):
    tag = "rm-list"
    ada = create(
        client,
        admin,
        first_name="Ada",
        tags=[tag, "vip"],
        identities=[
            {"kind": "email", "value": "ada@x.io"},
            {"kind": "phone", "value": "(202) 555-0172"},
        ],
    )
    create(client, admin, first_name="Bob", tags=[tag])
    view = View(filters=PeopleFilter(tag=tag), columns=parse_columns(None), sort=parse_sort("name"))
    from_sources = view_page(session, view).rows  # no summary built yet: the source rows
    rebuild(session)
    from_cards = view_page(session, view).rows
    assert from_cards == from_sources and len(from_cards) == 2
    assert summary(session, ada).stale is False
    client.patch(f"/api/v1/people/{ada}", json={"tags": [tag]}, headers=admin.headers)
    assert next(r for r in view_page(session, view).rows if r["id"] == ada)["tags"] == [tag]
