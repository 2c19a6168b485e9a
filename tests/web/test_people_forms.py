"""The person forms through the real app: create (and the duplicate warning), edit inline,
delete with confirmation, the bulk bar; refused input comes back as typed, named in words;
the read-only analyst gets no form and no write."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tenure.customers.actions import create_person, define_attribute
from tenure.customers.models import Identity, Organization, Person
from tenure.customers.schemas import AttributeDefinitionCreate, PersonCreate
from tenure.dedup.models import DuplicateCandidate
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry
from tenure.segments.models import Segment, SegmentMember
from tests.dedup.test_dedup_scan import write_base
from tests.dedup.test_door import _twin_of
from tests.pages import csrf_token, log_in

PASSWORD = "pass-word-123"


def _log_in(client, email: str) -> str:
    log_in(client, email, PASSWORD)
    return csrf_token(client.get("/people").text)


def _staff(session) -> dict[str, int]:
    users = {
        role: create_user(
            session=session, email=f"{role}@example.com", role=role, password=PASSWORD, name=name
        ).id
        for role, name in (("admin", "Ada Admin"), ("sales", "Rita Rep"), ("analyst", "Al"))
    }
    session.commit()
    return users


def _person(session, first: str, last: str, email: str | None = None) -> int:
    identities = [{"kind": "email", "value": email}] if email else []
    person = create_person(
        session=session,
        data=PersonCreate(first_name=first, last_name=last, identities=identities),
        actor_id=None,
        default_region="US",
    )
    session.commit()
    return person.id


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_new_person_form_creates_with_typed_attributes_and_names_errors_in_words(client, session):
    users = _staff(session)
    org = Organization(name="Curie Labs", attributes={})
    session.add(org)
    for key, label, kind in (("vip_since", "VIP since", "date"), ("seats", "Seats", "number")):
        define_attribute(
            session=session,
            data=AttributeDefinitionCreate(key=key, label=label, type=kind),
            actor_id=None,
        )
    define_attribute(
        session=session,
        data=AttributeDefinitionCreate(key="newsletter", label="Newsletter", type="boolean"),
        actor_id=None,
    )
    session.commit()
    token = _log_in(client, "admin@example.com")
    page = client.get("/people/new")
    assert page.status_code == 200
    assert "VIP since" in page.text and 'name="attr.seats"' in page.text
    form = {
        "csrf_token": token,
        "first_name": "Irène",
        "last_name": "Joliot",
        "job_title": "Chemist",
        "email": ["irene@example.org", "not an email"],
        "email_primary": "0",
        "phone": ["(415) 555-0199"],
        "owner_id": str(users["sales"]),
        "organization_id": str(org.id),
        "tags": "vip, nobel",
        "attr.vip_since": "1935-12-10",
        "attr.seats": "3",
        "attr.newsletter": "yes",
    }

    bad = client.post("/people/new", data=form)
    assert bad.status_code == 422
    alert = re.search(r'role="alert"[^>]*>([^<]*)</p>', bad.text)
    assert alert and alert.group(1).startswith("Email 2: ") and "identities" not in alert.group(1)
    # Kept as typed.
    assert 'value="Irène"' in bad.text and 'value="not an email"' in bad.text
    assert 'value="vip, nobel"' in bad.text and 'value="1935-12-10"' in bad.text
    bad_number = client.post(
        "/people/new", data={**form, "email": "irene@example.org"} | {"attr.seats": "three"}
    )
    assert bad_number.status_code == 422 and "Seats: must be a number" in bad_number.text
    assert _count(session, Person) == 0

    done = client.post(
        "/people/new", data={**form, "email": "irene@example.org"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    person = session.scalars(select(Person)).one()
    assert done.headers["location"] == f"/people/{person.id}"
    assert (person.first_name, person.job_title, person.owner_id, person.organization_id) == (
        "Irène",
        "Chemist",
        users["sales"],
        org.id,
    )
    assert person.attributes == {"vip_since": "1935-12-10", "seats": 3, "newsletter": True}
    assert sorted(t.name for t in person.tags) == ["nobel", "vip"]
    values = {(i.kind, i.value) for i in person.identities}
    assert values == {("email", "irene@example.org"), ("phone", "+14155550199")}
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "person", AuditEntry.entity_id == str(person.id)
        )
    ).one()
    assert (audit.action, audit.actor_id) == ("create", users["admin"])


def test_a_near_duplicate_is_warned_about_before_anything_is_created(
    client, session, session_factory
):
    _staff(session)
    write_base(session_factory, 300)
    existing, body = _twin_of(session)
    token = _log_in(client, "admin@example.com")
    people = _count(session, Person)
    form = {
        "csrf_token": token,
        "first_name": body["first_name"],
        "last_name": body["last_name"],
        "phone": body["identities"][0]["value"],
        **{f"attr.{k}": v for k, v in body["attributes"].items()},
    }

    warned = client.post("/people/new", data=form)

    assert warned.status_code == 409
    assert "This may be someone already here" in warned.text
    assert f'href="/people/{existing}"' in warned.text and "Open the existing one" in warned.text
    assert "Phone: " in warned.text and "Decision: " in warned.text
    assert f'value="{body["first_name"]}"' in warned.text  # the form is still filled in
    assert _count(session, Person) == people and _count(session, DuplicateCandidate) == 0

    anyway = client.post("/people/new", data={**form, "create_anyway": "1"}, follow_redirects=False)
    assert anyway.status_code == 303
    assert _count(session, Person) == people + 1
    new_id = int(anyway.headers["location"].rsplit("/", 1)[1])
    pairs = {(p.left_id, p.right_id): p.status for p in session.scalars(select(DuplicateCandidate))}
    assert pairs[(min(existing, new_id), max(existing, new_id))] == "pending"
    assert all(new_id in pair for pair in pairs)  # only the new person's pairs are queued


def test_inline_edit_changes_emails_and_keeps_a_refused_form(client, session):
    users = _staff(session)
    person_id = _person(session, "Lise", "Meitner", "lise@example.org")
    taken = _person(session, "Otto", "Hahn", "otto@example.org")
    session.add(
        Identity(
            person_id=person_id, kind="social", namespace="mastodon", value="lise", original="@lise"
        )
    )
    session.commit()
    token = _log_in(client, "admin@example.com")
    page = client.get(f"/people/{person_id}").text
    assert 'id="edit-person"' in page and 'value="lise@example.org"' in page
    form = {
        "csrf_token": token,
        "first_name": "Lise",
        "last_name": "Meitner",
        "email": ["lise@example.org", "lise@kwi.de"],
        "email_primary": "1",
        "owner_id": str(users["sales"]),
        "tags": "physics",
    }

    refused = client.post(f"/people/{person_id}/edit", data={**form, "email": ["otto@example.org"]})
    assert refused.status_code == 422
    assert "Email 1: email otto@example.org belongs to person" in refused.text
    assert 'id="edit-person" open' in refused.text and 'value="otto@example.org"' in refused.text

    saved = client.post(f"/people/{person_id}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    person = session.get(Person, person_id)
    emails = {i.value: i.is_primary for i in person.identities if i.kind == "email"}
    assert emails == {"lise@example.org": False, "lise@kwi.de": True}
    assert ("social", "lise") in {(i.kind, i.value) for i in person.identities}  # untouched
    assert person.owner_id == users["sales"] and [t.name for t in person.tags] == ["physics"]
    assert taken in {p.id for p in session.scalars(select(Person))}

    removed = client.post(
        f"/people/{person_id}/edit",
        data={**form, "email_remove": "0", "email_primary": "1"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    session.expire_all()
    emails = {i.value for i in session.get(Person, person_id).identities if i.kind == "email"}
    assert emails == {"lise@kwi.de"}


def test_delete_needs_the_confirmation_form_and_leaves_a_notice(client, session):
    _staff(session)
    person_id = _person(session, "Chien-Shiung", "Wu")
    token = _log_in(client, "admin@example.com")
    page = client.get(f"/people/{person_id}").text
    assert "This cannot be undone" in page and f'action="/people/{person_id}/delete"' in page

    gone = client.post(f"/people/{person_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 200 and "Deleted Chien-Shiung Wu." in gone.text
    assert session.get(Person, person_id) is None
    assert "Deleted Chien-Shiung Wu." not in client.get("/people").text  # shown once


def test_bulk_bar_tags_assigns_and_deletes_after_confirming(client, session):
    users = _staff(session)
    ids = [_person(session, "Emmy", f"Noether{i}") for i in range(3)]
    token = _log_in(client, "admin@example.com")
    listing = client.get("/people?q=noether").text
    assert 'id="bulk"' in listing and 'id="select-all"' in listing
    base = {"csrf_token": token, "back": "/people?q=noether"}

    tagged = client.post(
        "/people/bulk",
        data={**base, "ids": [str(i) for i in ids[:2]], "op": "add_tag", "tag": "algebra"},
        follow_redirects=False,
    )
    assert tagged.status_code == 303 and tagged.headers["location"] == "/people?q=noether"
    assert "Tag algebra added to 2 people." in client.get("/people?q=noether").text
    owned = client.post(
        "/people/bulk",
        data={
            **base,
            "ids": [str(i) for i in ids],
            "op": "assign_owner",
            "owner_id": str(users["sales"]),
        },
    )
    assert "Owner set to Rita Rep for 3 people." in owned.text
    session.expire_all()
    people = {p.id: p for p in session.scalars(select(Person))}
    assert [sorted(t.name for t in people[i].tags) for i in ids] == [["algebra"], ["algebra"], []]
    assert {people[i].owner_id for i in ids} == {users["sales"]}

    missing_tag = client.post("/people/bulk", data={**base, "ids": [str(ids[0])], "op": "add_tag"})
    assert missing_tag.status_code == 422 and "Tag: name the tag" in missing_tag.text
    nobody = client.post("/people/bulk", data={**base, "op": "add_tag", "tag": "x"})
    assert nobody.status_code == 422 and "People: choose at least one person" in nobody.text

    asked = client.post(
        "/people/bulk", data={**base, "ids": [str(i) for i in ids[:2]], "op": "delete"}
    )
    assert asked.status_code == 200 and "Delete 2 people?" in asked.text
    assert _count(session, Person) == 3  # nothing deleted before the confirmation
    confirmed = client.post(
        "/people/bulk",
        data={**base, "ids": [str(i) for i in ids[:2]], "op": "delete", "confirmed": "1"},
    )
    assert "Deleted 2 people." in confirmed.text
    assert [p.id for p in session.scalars(select(Person))] == [ids[2]]
    deletions = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).all()
    assert sorted(int(a.entity_id) for a in deletions) == ids[:2]


def test_the_analyst_sees_no_write_control_and_cannot_post(client, session):
    _staff(session)
    person_id = _person(session, "Rosalind", "Franklin", "rosalind@example.org")
    token = _log_in(client, "analyst@example.com")
    listing = client.get("/people").text
    assert 'id="bulk"' not in listing and 'name="ids"' not in listing
    assert 'href="/people/new"' not in listing
    page = client.get(f"/people/{person_id}").text
    assert 'id="edit-person"' not in page and 'id="delete-person"' not in page
    assert client.get("/people/new").status_code == 403
    for path, data in (
        ("/people/new", {"first_name": "X"}),
        (f"/people/{person_id}/edit", {"first_name": "X"}),
        (f"/people/{person_id}/delete", {}),
        ("/people/bulk", {"ids": str(person_id), "op": "delete", "confirmed": "1"}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert session.get(Person, person_id).first_name == "Rosalind"


def test_bulk_bar_adds_to_a_static_list(client, session):
    _staff(session)
    ids = [_person(session, "Grace", f"Hopper{i}") for i in range(2)]
    token = _log_in(client, "admin@example.com")
    created = client.post(
        "/segments/new",
        data={"csrf_token": token, "name": "Conference", "kind": "static", "person_ids": ""},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    segment = session.scalars(select(Segment).where(Segment.name == "Conference")).one()
    assert f'<option value="{segment.id}">Conference</option>' in client.get("/people").text

    done = client.post(
        "/people/bulk",
        data={
            "csrf_token": token,
            "ids": [str(i) for i in ids],
            "op": "add_to_list",
            "segment_id": str(segment.id),
        },
    )

    assert "Added 2 people to the list Conference." in done.text
    members = session.scalars(
        select(SegmentMember.person_id).where(SegmentMember.segment_id == segment.id)
    ).all()
    assert sorted(members) == ids


def _notice(html: str) -> str | None:
    match = re.search(r'<p class="notice" role="status" id="notice">([^<]*)</p>', html)
    return match.group(1) if match else None


def test_creating_and_saving_a_person_says_so_once(client, session):
    _staff(session)
    token = _log_in(client, "admin@example.com")
    created = client.post(
        "/people/new",
        data={"csrf_token": token, "first_name": "Lise", "last_name": "Meitner"},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    person = session.scalars(select(Person).where(Person.last_name == "Meitner")).one()
    page = client.get(created.headers["location"])
    assert _notice(page.text) == "Created Lise Meitner."
    # Said once: a reload shows the page without it.
    assert _notice(client.get(f"/people/{person.id}").text) is None

    saved = client.post(
        f"/people/{person.id}/edit",
        data={
            "csrf_token": token,
            "first_name": "Lise",
            "last_name": "Meitner",
            "job_title": "Physicist",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(saved.headers["location"])
    assert _notice(page.text) == "Changes saved." and "Physicist" in page.text
    # A refused edit says what is wrong, not that it was saved.
    refused = client.post(
        f"/people/{person.id}/edit",
        data={"csrf_token": token, "first_name": "Lise", "last_name": "Meitner", "email": "nope"},
    )
    assert refused.status_code == 422 and _notice(refused.text) is None
