"""A small workspace with one of everything the pages show, for walks through every page.

Long names, a long email, a wide CSV draft (30 columns), consents, a static segment, a
pending duplicate pair, merges and a task: what made pages overflow at 390 px.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.actions import create_person
from tenure.customers.activities import add_note, create_task
from tenure.customers.organizations import create_organization
from tenure.customers.schemas import NoteCreate, OrganizationCreate, PersonCreate, TaskCreate
from tenure.db.session import unit_of_work
from tenure.dedup.models import DuplicateCandidate
from tenure.dedup.scan import scan_duplicates
from tenure.identity.actions import create_user
from tenure.identity.models import Role
from tenure.identity.permissions import Actor
from tenure.ingest.actions import create_upload_draft
from tenure.segments.actions import create_segment
from tenure.segments.schemas import SegmentCreate
from tenure.timeline.append import append_events
from tenure.web.pages.registry import NAV
from tests.dedup.test_dedup_scan import write_base

PASSWORD = "pass-word-123"
ROLES = ("admin", "sales", "analyst")
LONG_EMAIL = "maximiliana.konstantina.wolfeschlegelstein@example-company.example"


@dataclass(frozen=True)
class World:
    person_id: int
    organization_id: int
    segment_id: int
    pair_id: int
    import_id: int

    def pages(self, role: Role = Role.admin) -> list[str]:
        """Every page of the navigation ``role`` sees (a page added to the bar is walked
        too), the lifecycle tabs, and one of each detail page."""
        return [
            "/",  # home (the people list until a home page lands)
            *(item.path for item in NAV if item.visible_to(role)),
            "/lifecycle/time-in-stage",
            "/lifecycle/journeys",
            "/lifecycle/settings",
            f"/people/{self.person_id}",
            f"/organizations/{self.organization_id}",
            f"/segments/{self.segment_id}",
            f"/duplicates/{self.pair_id}",
            f"/imports/{self.import_id}",
        ]


def _wide_csv() -> bytes:
    headers = ["Email", "First Name", "Last Name"] + [
        f"Custom field with a long heading number {n}" for n in range(27)
    ]
    row = ["grace.hopper@example.com", "Grace", "Hopper"] + [
        f"value-{n}-that-is-rather-long-for-a-cell" for n in range(27)
    ]
    return (",".join(headers) + "\n" + ",".join(row) + "\n").encode()


def build_world(factory: sessionmaker[Session]) -> World:
    with unit_of_work(factory) as session:
        users = {
            role: create_user(
                session=session,
                email=f"{role}@example.com",
                role=role,
                password=PASSWORD,
                name=f"{role.title()} User",
            )
            for role in ROLES
        }
        org = create_organization(
            session=session,
            data=OrganizationCreate(
                name="The Extraordinarily Long-Named International Holding Company of Examples",
                domain="very-long-subdomain-name.example-holding-company.example",
            ),
            actor=None,
        )
        person = create_person(
            session=session,
            data=PersonCreate(
                first_name="Maximiliana-Konstantina",
                last_name="Wolfeschlegelsteinhausenbergerdorff",
                job_title="Principal Director of Long Titles and Extended Responsibilities",
                organization_id=org.id,
                owner_id=users["sales"].id,
                tags=["vip", "newsletter", "a-rather-long-tag-name-for-testing"],
                identities=[
                    {"kind": "email", "value": LONG_EMAIL},
                    {"kind": "phone", "value": "+1 202 555 0172"},
                ],
                consents=[
                    {"channel": "email", "purpose": "marketing", "status": "granted"},
                    {"channel": "sms", "purpose": "service", "status": "withdrawn"},
                ],
            ),
            actor_id=None,
            default_region="US",
        )
        append_events(
            session=session,
            raw_items=[
                {
                    "type": "order",
                    "occurred_at": "2026-02-03T15:04:00Z",
                    "person_id": person.id,
                    "channel": "web",
                    "amount_minor": 21193434,
                    "currency": "USD",
                }
            ],
            actor_id=None,
        )
        add_note(
            session=session,
            data=NoteCreate(body="https://example.com/" + "a-very-long-path-segment" * 12),
            actor_id=users["sales"].id,
            person_id=person.id,
        )
        create_task(
            session=session,
            data=TaskCreate(title="Call about the renewal", assignee_id=users["sales"].id),
            actor_id=None,
            person_id=person.id,
        )
        admin = Actor(user_id=users["admin"].id, email="admin@example.com", role=Role.admin)
        segment, _ = create_segment(
            session=session,
            data=SegmentCreate(name="Hand-picked list", kind="static", person_ids=[person.id]),
            actor=admin,
            currency="USD",
        )
        ids = (person.id, org.id, segment.id, admin)
    person_id, org_id, segment_id, admin = ids
    write_base(factory, 120)
    scan_duplicates(session_factory=factory, actor_id=None)
    draft = create_upload_draft(
        session_factory=factory,
        actor=admin,
        content=_wide_csv(),
        file_name="wide-export-with-many-columns.csv",
        format="csv",
        default_region="US",
    )
    with factory() as session:
        pair_id = session.scalar(
            select(DuplicateCandidate.id)
            .where(DuplicateCandidate.status == "pending")
            .order_by(DuplicateCandidate.id)
        )
    assert pair_id is not None, "the synthetic base has no pending pair"
    return World(person_id, org_id, segment_id, pair_id, draft.id)
