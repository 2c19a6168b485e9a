"""The customers capability's part of the demo workspace: the declared attributes,
owners, consents and tags.

Runs after the demo's base (people, organizations, orders) and after identity's staff.
Each function draws from its own stream (``DemoContext.rng``); the shares are those of a
plausible small retailer's base.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update

from tenure.customers.actions import define_attribute
from tenure.customers.attributes import declared_attributes
from tenure.customers.models import (
    AttributeType,
    ConsentRecord,
    Organization,
    Person,
    Tag,
    organization_tags,
    person_tags,
)
from tenure.customers.schemas import AttributeDefinitionCreate
from tenure.db.bulk import insert_rows
from tenure.db.dialect import id_in
from tenure.identity.models import Role, User
from tenure.workspace.demo import DemoContext, register_demo_contribution

OWNED_SHARE = 0.3  # customers with an account owner (planted duplicates follow theirs)
MARKETING_SHARE = 0.7  # customers who opted in to marketing email
WITHDRAWN_SHARE = 0.12  # of those, who withdrew later (30-400 days after)
VIP_SHARE = 1 / 50  # the top spenders
GIFT_BUYER_SHARE = 1 / 40
DEMO_TAGS = ("vip", "newsletter", "b2b", "gift-buyer")
CONSENT_COLUMNS = ("person_id", "channel", "purpose", "status", "source", "recorded_at")
#: The attributes the demo's people carry (``datasets.demo_people``), declared as an import
#: that creates them would: the person form shows and edits them, and the duplicate check
#: weighs the address and birthday a person types in.
DEMO_ATTRIBUTES = (
    ("cdnow_customer_id", "CDNOW customer id", AttributeType.number),
    ("street", "Street", AttributeType.text),
    ("city", "City", AttributeType.text),
    ("region", "Region", AttributeType.text),
    ("postal_code", "Postal code", AttributeType.text),
    ("country", "Country", AttributeType.text),
    ("birthday", "Birthday", AttributeType.text),
)


def declare_demo_attributes(context: DemoContext) -> None:
    """Declare the demo people's attributes (those not declared already)."""
    declared = declared_attributes(context.session, "person")
    for key, label, kind in DEMO_ATTRIBUTES:
        if key not in declared:
            define_attribute(
                session=context.session,
                data=AttributeDefinitionCreate(key=key, label=label, type=kind),
                actor_id=None,
            )


def assign_demo_owners(context: DemoContext) -> None:
    """Organizations take the sales staff in turn; about 30% of customers have an owner."""
    session = context.session
    owners = list(
        session.scalars(
            select(User.id).where(User.role.in_((Role.sales, Role.manager))).order_by(User.id)
        )
    )
    if not owners:
        return
    organizations = cast(Table, Organization.__table__)
    session.execute(
        update(organizations)
        .where(organizations.c.id == bindparam("org"))
        .values(owner_id=bindparam("owner"), updated_at=organizations.c.updated_at),
        [
            {"org": oid, "owner": owners[i % len(owners)]}
            for i, oid in enumerate(context.organization_ids)
        ],
    )
    customers = context.customer_ids
    owned = context.rng.random(len(customers)) < OWNED_SHARE
    pick = context.rng.integers(0, len(owners), size=len(customers))
    owner_of = {pid: owners[int(pick[i])] for i, pid in enumerate(customers) if owned[i]}
    owner_of.update(
        {
            copy: owner_of[original]
            for copy, original in context.original_of.items()
            if original in owner_of
        }
    )
    people = cast(Table, Person.__table__)
    # updated_at keeps the person's own date (no onupdate): the demo is a snapshot.
    session.execute(
        update(people)
        .where(people.c.id == bindparam("person"))
        .values(owner_id=bindparam("owner"), updated_at=people.c.updated_at),
        [{"person": pid, "owner": owner} for pid, owner in owner_of.items()],
    )


def add_demo_consents(context: DemoContext) -> None:
    """Every person may be emailed about their orders (service); most customers also opted
    in to marketing, and some of them withdrew later."""
    session = context.session
    created = select(Person.id, Person.created_at).where(
        id_in(session.connection(), Person.id, context.person_ids)
    )
    since = {pid: at for pid, at in session.execute(created)}
    customers = set(context.customer_ids)
    marketing = context.rng.random(len(context.person_ids)) < MARKETING_SHARE
    withdrew = context.rng.random(len(context.person_ids)) < WITHDRAWN_SHARE
    rows = []
    for i, pid in enumerate(context.person_ids):
        at = since[pid]
        rows.append((pid, "email", "service", "granted", "demo", at))
        if pid not in customers or not marketing[i]:  # a planted duplicate: a bare record
            continue
        rows.append((pid, "email", "marketing", "granted", "demo", at))
        if withdrew[i]:
            later = at + timedelta(days=int(context.rng.integers(30, 400)))
            rows.append((pid, "email", "marketing", "withdrawn", "demo", later))
    insert_rows(session.connection(), ConsentRecord.__table__, CONSENT_COLUMNS, rows)


def add_demo_tags(context: DemoContext) -> None:
    """b2b for organizations and their people, newsletter for marketing consents in force,
    vip for the top spenders and gift-buyer for a few customers at random."""
    session = context.session
    tag_ids = {
        name: session.scalars(insert(Tag).returning(Tag.id), [{"name": name}]).one()
        for name in DEMO_TAGS
    }
    if context.organization_ids:
        session.execute(
            insert(organization_tags),
            [
                {"organization_id": oid, "tag_id": tag_ids["b2b"]}
                for oid in context.organization_ids
            ],
        )
    tagged: dict[str, list[int]] = defaultdict(list)
    tagged["b2b"] = list(
        session.scalars(
            select(Person.id).where(
                id_in(session.connection(), Person.id, context.person_ids),
                Person.organization_id.is_not(None),
            )
        )
    )
    tagged["newsletter"] = _subscribed(context)
    top = sorted(context.order_revenue, key=context.order_revenue.__getitem__, reverse=True)
    tagged["vip"] = top[: int(context.customers * VIP_SHARE)]
    customers = list(context.customer_ids)
    gifts = context.rng.choice(
        len(customers), size=int(len(customers) * GIFT_BUYER_SHARE), replace=False
    )
    tagged["gift-buyer"] = [customers[int(i)] for i in gifts]
    rows = [(pid, tag_ids[name]) for name, ids in tagged.items() for pid in ids]
    insert_rows(session.connection(), person_tags, ("person_id", "tag_id"), rows)


def _subscribed(context: DemoContext) -> list[int]:
    """People whose latest marketing email consent is a grant."""
    latest: dict[int, str] = {}
    records = context.session.execute(
        select(ConsentRecord.person_id, ConsentRecord.status)
        .where(ConsentRecord.channel == "email", ConsentRecord.purpose == "marketing")
        .order_by(ConsentRecord.person_id, ConsentRecord.recorded_at, ConsentRecord.id)
    )
    for person_id, status in records:
        latest[person_id] = status
    return [pid for pid, status in latest.items() if status == "granted"]


def register() -> None:
    register_demo_contribution("customers.attributes", declare_demo_attributes, order=15)
    register_demo_contribution("customers.owners", assign_demo_owners, order=20)
    register_demo_contribution("customers.consents", add_demo_consents, order=30)
    register_demo_contribution("customers.tags", add_demo_tags, order=40)
