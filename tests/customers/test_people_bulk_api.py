"""POST /api/v1/people/bulk (assign owner, add and remove a tag, add to a static list,
delete: one transaction, each person audited) and the edit and delete API's refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.customers import bulk, people
from tenure.customers.actions import create_person
from tenure.customers.models import Identity, Person
from tenure.customers.schemas import PersonCreate, PersonUpdate
from tenure.dedup import actions as dedup_actions
from tenure.errors import PermissionDenied
from tenure.identity.models import AuditEntry, Role
from tenure.identity.permissions import Actor
from tenure.segments.models import SegmentMember


def _people(client, admin, count: int, **extra) -> list[int]:
    ids = []
    for index in range(count):
        body = {"first_name": "Bulk", "last_name": f"Person{index}", **extra}
        response = client.post("/api/v1/people", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _bulk(client, user, **body):
    return client.post("/api/v1/people/bulk", json=body, headers=user.headers)


def _audits(session, person_id: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(
        AuditEntry.entity_type == "person", AuditEntry.entity_id == str(person_id)
    )
    return list(session.scalars(query.order_by(AuditEntry.id)))


def test_tags_owner_and_delete_change_only_the_named_people(client, admin, session, api_user):
    ids = _people(client, admin, 3, tags=["existing"])
    sales = api_user("sales")

    added = _bulk(client, admin, ids=ids[:2], op="add_tag", tag="gold")
    assert added.status_code == 200, added.text
    assert added.json() == {"op": "add_tag", "requested": 2, "changed": 2}
    again = _bulk(client, admin, ids=ids[:2], op="add_tag", tag="gold").json()
    assert again["changed"] == 0  # already tagged: no change, no audit entry

    owned = _bulk(client, admin, ids=ids, op="assign_owner", owner_id=sales.id).json()
    assert owned == {"op": "assign_owner", "requested": 3, "changed": 3}
    removed = _bulk(client, admin, ids=ids, op="remove_tag", tag="existing").json()
    assert removed["changed"] == 3

    people = {
        p["id"]: p for p in client.get("/api/v1/people", headers=admin.headers).json()["items"]
    }
    assert [people[i]["tags"] for i in ids] == [["gold"], ["gold"], []]
    assert {people[i]["owner"]["id"] for i in ids} == {sales.id}
    trail = [(a.action, list(a.changes)) for a in _audits(session, ids[0])]
    assert [action for action, _ in trail] == ["create", "update", "update", "update"]
    assert [fields for _, fields in trail[1:]] == [["tags"], ["owner_id"], ["tags"]]
    tag_entry = _audits(session, ids[0])[1]
    assert tag_entry.changes["tags"] == {"before": ["existing"], "after": ["existing", "gold"]}
    assert tag_entry.actor_id == admin.id

    deleted = _bulk(client, admin, ids=ids[:2], op="delete").json()
    assert deleted == {"op": "delete", "requested": 2, "changed": 2}
    assert session.scalar(select(func.count()).select_from(Person)) == 1
    assert [a.action for a in _audits(session, ids[0])][-1] == "delete"


def test_add_to_a_static_list(client, admin, session):
    ids = _people(client, admin, 2)
    listed = client.post(
        "/api/v1/segments",
        json={"name": "Trade fair", "kind": "static"},
        headers=admin.headers,
    ).json()
    dynamic = client.post(
        "/api/v1/segments",
        json={"name": "Everyone", "filter": "first_name = 'Bulk'"},
        headers=admin.headers,
    )
    assert dynamic.status_code == 201, dynamic.text

    done = _bulk(client, admin, ids=ids, op="add_to_list", segment_id=listed["id"])

    assert done.json() == {"op": "add_to_list", "requested": 2, "changed": 2}
    members = session.scalars(
        select(SegmentMember.person_id).where(SegmentMember.segment_id == listed["id"])
    ).all()
    assert sorted(members) == ids
    refused = _bulk(client, admin, ids=ids, op="add_to_list", segment_id=dynamic.json()["id"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "segment_id"


def test_bad_bulk_input_names_the_field_and_changes_nothing(client, admin, session, api_user):
    ids = _people(client, admin, 2)
    cases = [
        ({"ids": [], "op": "add_tag", "tag": "x"}, "ids"),
        ({"ids": [ids[0], 999_999], "op": "add_tag", "tag": "x"}, "ids"),
        ({"ids": ids, "op": "add_tag"}, "tag"),
        ({"ids": ids, "op": "add_tag", "tag": "   "}, "tag"),
        ({"ids": ids, "op": "assign_owner", "owner_id": 999_999}, "owner_id"),
        ({"ids": ids, "op": "add_to_list"}, "segment_id"),
        ({"ids": ids, "op": "paint"}, "op"),
        ({"ids": ["one"], "op": "delete"}, "ids.0"),
        ({"ids": list(range(1, 1002)), "op": "delete"}, "ids"),
        ({"ids": ids, "op": "delete", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = _bulk(client, admin, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, body
    assert session.scalar(select(func.count()).select_from(Person)) == 2
    analyst = api_user("analyst")
    assert _bulk(client, analyst, ids=ids, op="delete").status_code == 403
    reader = api_user("sales", scope="read")
    assert _bulk(client, reader, ids=ids, op="delete").status_code == 403
    assert session.scalar(select(func.count()).select_from(Person)) == 2


def test_edit_and_delete_refuse_bad_input_and_read_only_callers(client, admin, api_user):
    (person_id,) = _people(client, admin, 1)
    path = f"/api/v1/people/{person_id}"
    for body, field in (
        ({"owner_id": 999_999}, "owner_id"),
        ({"organization_id": 999_999}, "organization_id"),
        ({"identities": [{"kind": "phone", "value": "12"}]}, "identities.0.value"),
        ({"attributes": {"undeclared": "x"}}, "attributes.undeclared"),
        ({"tags": [""]}, "tags.0"),
    ):
        response = client.patch(path, json=body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field
    analyst = api_user("analyst")
    assert client.patch(path, json={"first_name": "X"}, headers=analyst.headers).status_code == 403
    assert client.delete(path, headers=analyst.headers).status_code == 403
    assert client.get(path, headers=admin.headers).json()["first_name"] == "Bulk"
    assert client.delete(path, headers=admin.headers).status_code == 204
    assert client.delete(path, headers=admin.headers).status_code == 404


def test_an_edit_keeps_identities_stored_under_other_rules(client, admin, session):
    """The demo's phones are in Ofcom's drama range, which the phone rules refuse: sending
    the person's identities back unchanged must not refuse the edit, and a new invalid
    number still is."""
    (person_id,) = _people(client, admin, 1)
    session.add(
        Identity(
            person_id=person_id,
            kind="phone",
            namespace="",
            value="+447700900000",
            original="+447700900000",
            is_primary=True,
        )
    )
    session.commit()
    kept = [{"kind": "phone", "value": "+447700900000"}]
    path = f"/api/v1/people/{person_id}"

    edited = client.patch(
        path, json={"job_title": "Actor", "identities": kept}, headers=admin.headers
    )

    assert edited.status_code == 200, edited.text
    assert [i["value"] for i in edited.json()["identities"]] == ["+447700900000"]
    added = [*kept, {"kind": "phone", "value": "+447700900001"}]
    refused = client.patch(path, json={"identities": added}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "identities.1.value"


def test_the_actions_themselves_refuse_read_only_actors(session, api_user):
    """Every entry point gets the same answer: the actions check the actor, not only the
    API's writer dependency."""
    analyst = api_user("analyst")
    reader = Actor(user_id=analyst.id, email=analyst.email, role=Role.analyst)
    person = create_person(
        session=session, data=PersonCreate(first_name="Kept"), actor_id=None, default_region="US"
    )
    session.commit()
    attempts = [
        lambda: bulk.delete_people(session=session, ids=[person.id], actor=reader),
        lambda: bulk.add_tag(session=session, ids=[person.id], tag="x", actor=reader),
        lambda: bulk.assign_owner(session=session, ids=[person.id], owner_id=None, actor=reader),
        lambda: people.delete_person(session=session, person_id=person.id, actor=reader),
        lambda: people.update_person(
            session=session,
            person_id=person.id,
            data=PersonUpdate(first_name="Changed"),
            actor=reader,
            default_region="US",
        ),
        lambda: dedup_actions.create_person(
            session=session, data=PersonCreate(first_name="New"), actor=reader, default_region="US"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert session.scalars(select(Person.first_name)).all() == ["Kept"]
    assert session.get(Person, person.id).tags == []
