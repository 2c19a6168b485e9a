"""Duplicates caught at the door: POST /people lists (and queues) probable duplicates,
``?on_duplicate=reject`` refuses them, and an import's "same name and organization"
flag goes to the review queue.

Through the real app on both backends, on the synthetic base of test_dedup_scan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, Person
from tenure.db.session import unit_of_work
from tenure.dedup.models import DuplicateCandidate
from tenure.ingest.csv_import import path_opener, prepare_csv
from tenure.ingest.runner import IMPORT_DUPLICATE_REASON, declare_text_attributes, run_import
from tests.dedup.test_dedup_scan import write_base

INGEST_DATA = Path(__file__).parents[1] / "ingest" / "data"


def _twin_of(session: Session) -> tuple[int, dict[str, Any]]:
    """An existing person with a phone, and a new-person body that duplicates it: same
    name, phone and address, no email (emails are unique, so a copy would be refused)."""
    person, phone = session.execute(
        select(Person, Identity.value)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.kind == "phone", Person.first_name != "", Person.last_name != "")
        .order_by(Person.id)
        .limit(1)
    ).one()
    stored = dict(person.attributes)
    # street_number is not a built-in attribute: the one street line holds it, as CRMs do.
    number = stored.pop("street_number", None)
    if number and stored.get("street"):
        stored["street"] = f"{number} {stored['street']}"
    builtin = {"street", "city", "postal_code", "region", "country", "birthday"}
    attributes = {k: v for k, v in stored.items() if k in builtin and isinstance(v, str)}
    declare_text_attributes(session, set(attributes), entity="person", actor_id=None)
    session.commit()
    body = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "identities": [{"kind": "phone", "value": phone}],
        "attributes": attributes,
    }
    return person.id, body


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_probable_duplicate_is_created_listed_and_queued(
    client, admin, session_factory, session: Session
) -> None:
    write_base(session_factory, 300)
    existing, body = _twin_of(session)

    response = client.post("/api/v1/people", json=body, headers=admin.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    found = created["possible_duplicates"]
    assert existing in [f["id"] for f in found]
    twin = next(f for f in found if f["id"] == existing)
    assert twin["name"] == f"{body['first_name']} {body['last_name']}"
    assert 0.9 <= twin["score"] <= 1.0
    assert any(e.startswith("Phone: ") for e in twin["evidence"])
    pair = session.scalars(
        select(DuplicateCandidate).where(
            DuplicateCandidate.left_id == min(existing, created["id"]),
            DuplicateCandidate.right_id == max(existing, created["id"]),
        )
    ).one()
    assert pair.status == "pending" and pair.decision == "review"
    queue = client.get("/api/v1/duplicates", headers=admin.headers).json()["items"]
    assert pair.id in [p["id"] for p in queue]


def test_reject_answers_409_with_the_candidates_and_creates_nobody(
    client, admin, session_factory, session: Session
) -> None:
    write_base(session_factory, 300)
    existing, body = _twin_of(session)
    people = _count(session, Person)

    response = client.post("/api/v1/people?on_duplicate=reject", json=body, headers=admin.headers)

    assert response.status_code == 409, response.text
    assert existing in [f["id"] for f in response.json()["possible_duplicates"]]
    assert _count(session, Person) == people
    assert _count(session, DuplicateCandidate) == 0
    bad = client.post("/api/v1/people?on_duplicate=maybe", json=body, headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "on_duplicate"


def test_a_new_person_with_no_look_alike_has_no_duplicates(
    client, admin, session_factory, session: Session
) -> None:
    write_base(session_factory, 300)
    body = {
        "first_name": "Zebulon",
        "last_name": "Quixotic-Farthingale",
        "identities": [{"kind": "email", "value": "zebulon@example.org"}],
    }

    created = client.post("/api/v1/people?on_duplicate=reject", json=body, headers=admin.headers)

    assert created.status_code == 201, created.text
    assert created.json()["possible_duplicates"] == []
    assert _count(session, DuplicateCandidate) == 0


def test_an_import_flag_goes_to_the_review_queue(session, session_factory, tmp_path) -> None:
    # Given Jane Doe of Acme Rockets, imported
    with unit_of_work(session_factory) as work:
        source = prepare_csv(
            work,
            opener=path_opener(INGEST_DATA / "pipedrive_people.csv"),
            file_name="pipedrive_people.csv",
            default_region="US",
            preset="pipedrive-people",
        )
    run_import(session_factory=session_factory, source=source, actor_id=None)
    jane = session.scalar(
        select(Person.id)
        .join(Identity)
        .where(Identity.kind == "email", Identity.value == "jane@acme-rockets.example")
    )
    path = tmp_path / "more.csv"
    path.write_text(
        "Email,First Name,Last Name,Company\njane.doe@gmail.example,JANE,DOE,acme rockets\n"
    )

    # When a file brings a Jane Doe of the same organization with another email
    for dry_run in (True, False):
        with unit_of_work(session_factory) as work:
            source = prepare_csv(
                work, opener=path_opener(path), file_name="more.csv", default_region="US"
            )
        report = run_import(
            session_factory=session_factory, source=source, actor_id=None, dry_run=dry_run
        )
        assert report.counts()["duplicates"] == 1
        if dry_run:
            assert _count(session, DuplicateCandidate) == 0  # a dry run queues nothing

    # Then the import report flags it and the pair waits in the review queue
    twin = session.scalar(
        select(Person.id)
        .join(Identity)
        .where(Identity.kind == "email", Identity.value == "jane.doe@gmail.example")
    )
    pair = session.scalars(select(DuplicateCandidate)).one()
    assert (pair.left_id, pair.right_id) == (min(jane, twin), max(jane, twin))
    assert pair.status == "pending" and pair.decision == "review"
    assert pair.evidence["import"]["level"] == IMPORT_DUPLICATE_REASON
    assert "first_name" in pair.evidence  # the matcher's own comparison, in words
