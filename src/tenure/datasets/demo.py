"""The demo workspace: the real CDNOW purchase log with generated people around it.

Each of the 23,570 CDNOW customers becomes a person and each of the 69,659 purchase lines
an order event (USD, with one line item per CD). Names, emails, phones, organizations,
item categories, owners, tags and consents are generated with a fixed seed, and the
workspace is flagged as demo so that the app says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import (
    ConsentRecord,
    Identity,
    Organization,
    Person,
    Tag,
    organization_tags,
    person_tags,
)
from tenure.datasets.files import open_cdnow_master
from tenure.datasets.names import COMPANY_NAMES, FIRST_NAMES, LAST_NAMES, MUSIC_CATEGORIES
from tenure.db.bulk import insert_rows
from tenure.db.session import make_session_factory, unit_of_work
from tenure.identity.actions import create_user
from tenure.identity.models import Role
from tenure.timeline.ingest import EVENT_COLUMNS, ITEM_COLUMNS
from tenure.timeline.models import Event, EventItem
from tenure.workspace.queries import ensure_workspace

SEED = 19970101
DEMO_PASSWORD = "tenure-demo"
ADMIN_EMAIL = "admin@demo.tenure.dev"
DEMO_STAFF = (
    (ADMIN_EMAIL, "Ada Admin", Role.admin),
    ("maria.sales@demo.tenure.dev", "Maria Sales", Role.sales),
    ("sam.accounts@demo.tenure.dev", "Sam Accounts", Role.sales),
    ("mo.marketing@demo.tenure.dev", "Mo Marketing", Role.marketing),
    ("sue.support@demo.tenure.dev", "Sue Support", Role.support),
    ("ana.analyst@demo.tenure.dev", "Ana Analyst", Role.analyst),
)
# Reserved for documentation (RFC 2606) and Ofcom's drama range: no real person is reached.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "organization_id",
    "owner_id",
    "attributes",
    "search_text",
    "created_at",
    "updated_at",
)
IDENTITY_COLUMNS = (
    "person_id",
    "kind",
    "namespace",
    "value",
    "original",
    "is_primary",
    "created_at",
)
CONSENT_COLUMNS = ("person_id", "channel", "purpose", "status", "source", "recorded_at")


@dataclass(frozen=True)
class CdnowPurchase:
    line: int
    customer_id: int
    day: datetime
    cds: int
    amount_minor: int


@dataclass(frozen=True)
class DemoSummary:
    people: int
    orders: int
    organizations: int
    admin_email: str
    admin_password: str


def read_cdnow_master() -> Iterator[CdnowPurchase]:
    with open_cdnow_master() as handle:
        for number, row in enumerate(csv.reader(handle, delimiter=" ", skipinitialspace=True), 1):
            customer, day, cds, dollars = row
            if not customer.isdigit():  # the header line
                continue
            yield CdnowPurchase(
                line=number,
                customer_id=int(customer),
                day=datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC),
                cds=int(cds),
                amount_minor=round(float(dollars) * 100),
            )


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Person)) == 0


def _split_amount(total: int, parts: int) -> list[int]:
    base, remainder = divmod(total, parts)
    return [base + (1 if i < remainder else 0) for i in range(parts)]


def build_demo_workspace(
    *,
    engine: Engine,
    settings: Settings,
    console: Console | None = None,
    max_customers: int | None = None,
) -> DemoSummary:
    """Build the demo; ``max_customers`` keeps only the CDNOW customers with the lowest
    ids (a smaller demo for tests, the same data for those it keeps)."""
    rng = np.random.default_rng(SEED)
    purchases = list(read_cdnow_master())
    if max_customers is not None:
        purchases = [p for p in purchases if p.customer_id <= max_customers]
    customers = sorted({p.customer_id for p in purchases})
    first_purchase: dict[int, datetime] = {}
    for p in purchases:
        first_purchase.setdefault(p.customer_id, p.day)
    factory = make_session_factory(engine)
    console = console or Console(quiet=True)

    with unit_of_work(factory) as session, Progress(console=console, transient=True) as bar:
        task = bar.add_task("Building demo workspace", total=len(customers) + len(purchases))
        workspace = ensure_workspace(session)
        workspace.name = "Demo: CDNOW music store"
        workspace.is_demo = True
        staff = [
            create_user(session=session, email=e, role=r, password=DEMO_PASSWORD, name=n)
            for e, n, r in DEMO_STAFF
        ]
        owner_ids = [u.id for u in staff if u.role in (Role.sales, Role.manager)]
        now = datetime.now(UTC)

        org_rows = [
            {
                "name": name,
                "domain": name.lower().replace(" ", "-").replace("&", "and") + ".example",
                "owner_id": owner_ids[i % len(owner_ids)],
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
            for i, name in enumerate(COMPANY_NAMES)
        ]
        org_ids = list(
            session.scalars(
                insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                org_rows,
            )
        )
        tag_ids = {
            name: session.scalars(insert(Tag).returning(Tag.id), [{"name": name}]).one()
            for name in ("vip", "newsletter", "b2b", "gift-buyer")
        }
        session.execute(
            insert(organization_tags),
            [{"organization_id": oid, "tag_id": tag_ids["b2b"]} for oid in org_ids],
        )

        firsts = rng.choice(FIRST_NAMES, size=len(customers))
        lasts = rng.choice(LAST_NAMES, size=len(customers))
        in_org = rng.random(len(customers)) < 0.06
        org_pick = rng.integers(0, len(org_ids), size=len(customers))
        owned = rng.random(len(customers)) < 0.3
        owner_pick = rng.integers(0, len(owner_ids), size=len(customers))
        person_rows = []
        domains = rng.integers(0, len(EMAIL_DOMAINS), size=len(customers))
        emails = []
        for i, customer in enumerate(customers):
            since = first_purchase[customer]
            first, last = str(firsts[i]), str(lasts[i])
            email = f"{first}.{last}.{customer}@{EMAIL_DOMAINS[domains[i]]}".lower()
            emails.append(email)
            person_rows.append(
                (
                    first,
                    last,
                    org_ids[org_pick[i]] if in_org[i] else None,
                    owner_ids[owner_pick[i]] if owned[i] else None,
                    {"cdnow_customer_id": customer},
                    f"{first} {last} {email}".lower(),
                    since,
                    since,
                )
            )
        connection = session.connection()
        person_ids = insert_rows(
            connection, Person.__table__, PERSON_COLUMNS, person_rows, return_ids=True
        )
        id_of = dict(zip(customers, person_ids, strict=True))

        identity_rows = []
        consent_rows = []
        tag_rows = []
        has_phone = rng.random(len(customers)) < 0.4
        marketing = rng.random(len(customers)) < 0.7
        withdrew = rng.random(len(customers)) < 0.12
        for i, customer in enumerate(customers):
            pid = person_ids[i]
            identity_rows.append(_identity(pid, "email", emails[i], now))
            if has_phone[i]:
                phone = f"+447700900{customer % 1000:03d}"
                identity_rows.append(_identity(pid, "phone", phone, now))
            since = first_purchase[customer]
            consent_rows.append(_consent(pid, "email", "service", "granted", since))
            if marketing[i]:
                consent_rows.append(_consent(pid, "email", "marketing", "granted", since))
                if withdrew[i]:
                    later = since + timedelta(days=int(rng.integers(30, 400)))
                    consent_rows.append(_consent(pid, "email", "marketing", "withdrawn", later))
                else:
                    tag_rows.append((pid, tag_ids["newsletter"]))
            if in_org[i]:
                tag_rows.append((pid, tag_ids["b2b"]))
            bar.advance(task)
        insert_rows(connection, Identity.__table__, IDENTITY_COLUMNS, identity_rows)
        insert_rows(connection, ConsentRecord.__table__, CONSENT_COLUMNS, consent_rows)

        categories = [c for c, _ in MUSIC_CATEGORIES]
        weights = np.array([w for _, w in MUSIC_CATEGORIES])
        weights = weights / weights.sum()
        favourite = rng.choice(len(categories), size=len(customers), p=weights)
        favourite_of = dict(zip(customers, favourite, strict=True))
        spend: dict[int, int] = {}
        event_rows = []
        item_plan: list[list[tuple[str, int]]] = []
        minutes = rng.integers(9 * 60, 22 * 60, size=len(purchases))
        by_web = rng.random(len(purchases)) < 0.8
        cd_counts = np.array([max(p.cds, 1) for p in purchases])
        # Most CDs come from the customer's favourite genre, the rest at random.
        total_cds = int(cd_counts.sum())
        from_favourite = rng.random(total_cds) < 0.6
        random_genre = rng.choice(len(categories), size=total_cds, p=weights)
        offsets = np.concatenate(([0], np.cumsum(cd_counts)))
        for n, p in enumerate(purchases):
            event_rows.append(
                (
                    id_of[p.customer_id],
                    p.day + timedelta(minutes=int(minutes[n])),
                    now,
                    "order",
                    "web" if by_web[n] else "phone",
                    "cdnow",
                    f"cdnow-{p.line}",
                    p.amount_minor,
                    "USD",
                    {"cds": p.cds},
                )
            )
            span = slice(offsets[n], offsets[n + 1])
            picks = np.where(from_favourite[span], favourite_of[p.customer_id], random_genre[span])
            prices = _split_amount(p.amount_minor, int(cd_counts[n]))
            item_plan.append(
                [(categories[c], price) for c, price in zip(picks, prices, strict=True)]
            )
            spend[p.customer_id] = spend.get(p.customer_id, 0) + p.amount_minor
            bar.advance(task)
        event_ids = insert_rows(
            connection, Event.__table__, EVENT_COLUMNS, event_rows, return_ids=True
        )
        item_rows = [
            (event_id, f"CD-{category[:3].upper()}-{price % 997:03d}", category, 1, price)
            for event_id, plan in zip(event_ids, item_plan, strict=True)
            for category, price in plan
        ]
        insert_rows(connection, EventItem.__table__, ITEM_COLUMNS, item_rows)

        top = sorted(spend, key=spend.__getitem__, reverse=True)[: len(customers) // 50]
        tag_rows.extend((id_of[c], tag_ids["vip"]) for c in top)
        gifts = rng.choice(customers, size=len(customers) // 40, replace=False)
        tag_rows.extend((id_of[int(c)], tag_ids["gift-buyer"]) for c in gifts)
        insert_rows(connection, person_tags, ("person_id", "tag_id"), tag_rows)

    return DemoSummary(
        people=len(customers),
        orders=len(purchases),
        organizations=len(org_ids),
        admin_email=ADMIN_EMAIL,
        admin_password=DEMO_PASSWORD,
    )


def _identity(person_id: int, kind: str, value: str, now: datetime) -> tuple:
    return (person_id, kind, "", value, value, True, now)


def _consent(person_id: int, channel: str, purpose: str, status: str, at: datetime) -> tuple:
    return (person_id, channel, purpose, status, "demo", at)
