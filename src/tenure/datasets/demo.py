"""The demo workspace: the real CDNOW purchase log with generated people around it.

Each of the 23,570 CDNOW customers becomes a person and each of the 69,659 purchase lines
an order event (USD, with one line item per CD). The builder lays this base: the
workspace (flagged as demo, its clock standing still on 1998-07-01, the day after the
log ends: ``tenure.workspace.clock``), the organizations, the people with their emails,
phones and addresses (``demo_people``, which also plants 306 duplicate records that keep
their customer's ``cdnow_customer_id`` and carry no orders) and the orders with their
items, all drawn with fixed seeds. Capabilities add the rest through registered
contributions (``tenure.workspace.demo``): identity its staff, customers the owners,
consents and tags.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.progress import Progress, TaskID
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.customers.models import Identity, Organization, Person
from tenure.datasets.demo_people import DemoPerson, generate_people, org_domain
from tenure.datasets.files import open_cdnow_master
from tenure.datasets.names import COMPANY_NAMES, FIRST_NAMES, LAST_NAMES, MUSIC_CATEGORIES
from tenure.db.bulk import insert_rows
from tenure.db.session import make_session_factory, unit_of_work
from tenure.db.statistics import analyze_after_load
from tenure.identity.demo import ADMIN_EMAIL, DEMO_PASSWORD  # the login the summary gives
from tenure.lifecycle.actions import evaluate_people
from tenure.timeline.append import append_rows
from tenure.timeline.pipeline import OUTSIDE
from tenure.workspace.clock import day_after, fix_now
from tenure.workspace.demo import DemoContext, run_demo_contributions
from tenure.workspace.queries import ensure_workspace

SEED = 19970101
# The demo's purchase log comes from outside Tenure, like an import.
DEMO_ORIGIN = OUTSIDE
PEOPLE_SEED = 19970102  # people have a stream of their own: orders draw from SEED as before
__all__ = ["ADMIN_EMAIL", "DEMO_PASSWORD", "DemoSummary", "build_demo_workspace"]
PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "organization_id",
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


@dataclass(frozen=True)
class CdnowPurchase:
    line: int
    customer_id: int
    day: datetime
    cds: int
    amount_minor: int


@dataclass(frozen=True)
class DemoSummary:
    people: int  # customers plus planted duplicates
    planted_duplicates: int
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
    *, engine: Engine, settings: Settings, console: Console | None = None, size: int | None = None
) -> DemoSummary:
    """Build the demo into an empty database; ``size`` keeps only the first ``size`` CDNOW
    customers (by id) and their purchases, for tests (None: all 23,570).

    The base is laid here (workspace, organizations, people, identities, orders); then the
    registered contributions add the rest (``tenure.workspace.demo``)."""
    rng = np.random.default_rng(SEED)
    purchases = list(read_cdnow_master())
    customers = sorted({p.customer_id for p in purchases})
    if size is not None:
        customers = customers[:size]
        kept = set(customers)
        purchases = [p for p in purchases if p.customer_id in kept]
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
        # The demo lives on the day after its log ends: every capability dates and judges
        # by this clock (tenure.workspace.clock), notes and stage overrides included.
        now = day_after(max(p.day for p in purchases))
        workspace.fixed_now = now

        org_rows = [
            {
                "name": name,
                "domain": org_domain(name),
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
            for name in COMPANY_NAMES
        ]
        org_ids = list(
            session.scalars(
                insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                org_rows,
            )
        )
        _skip_retired_draws(rng, len(customers), organizations=len(org_ids))

        last_day = max((p.day for p in purchases), default=now)
        people = generate_people(customers, first_purchase, seed=PEOPLE_SEED, until=last_day)
        person_rows = []
        for person in people:
            org = org_ids[person.organization] if person.organization is not None else None
            person_rows.append(_person_row(person, org))
        connection = session.connection()
        person_ids = insert_rows(
            connection, Person.__table__, PERSON_COLUMNS, person_rows, return_ids=True
        )
        # Orders belong to the original customers; planted duplicates follow them.
        id_of = dict(zip(customers, person_ids[: len(customers)], strict=True))

        identity_rows = []
        for i, person in enumerate(people):
            pid = person_ids[i]
            for rank, email in enumerate(person.emails):
                identity_rows.append(_identity(pid, "email", email, now, primary=rank == 0))
            for phone in person.phones:
                identity_rows.append(_identity(pid, "phone", phone, now))
            if i < len(customers):
                bar.advance(task)
        insert_rows(connection, Identity.__table__, IDENTITY_COLUMNS, identity_rows)

        revenue = _append_orders(session, rng, purchases, customers, id_of, now, bar, task)

        run_demo_contributions(
            DemoContext(
                session=session,
                person_ids=person_ids,
                customers=len(customers),
                original_of={
                    person_ids[i]: person_ids[person.duplicate_of]
                    for i, person in enumerate(people)
                    if person.duplicate_of is not None
                },
                organization_ids=org_ids,
                order_revenue=revenue,
                today=now,
                rng=rng,
            ),
            seed=SEED,
        )

    # Every table was just filled: plan the scores refresh that follows on real statistics.
    analyze_after_load(factory, None)
    return DemoSummary(
        people=len(people),
        planted_duplicates=len(people) - len(customers),
        orders=len(purchases),
        organizations=len(org_ids),
        admin_email=ADMIN_EMAIL,
        admin_password=DEMO_PASSWORD,
    )


def _skip_retired_draws(rng: np.random.Generator, customers: int, *, organizations: int) -> None:
    """Make and drop the draws the builder once made before the orders: names (people now
    come from ``demo_people``), owners and consents (contributed by the customers
    capability, on streams of their own). So the order stream (times, channels, genres)
    stays what it was, and with it every score, stage and segment of the demo."""
    rng.choice(FIRST_NAMES, size=customers)
    rng.choice(LAST_NAMES, size=customers)
    rng.random(customers)
    rng.integers(0, organizations, size=customers)
    rng.random(customers)  # owned
    rng.integers(0, 2, size=customers)  # the owner, of the two sales users
    rng.integers(0, 4, size=customers)
    rng.random(customers)
    opted_in = rng.random(customers) < 0.7
    withdrew = rng.random(customers) < 0.12
    rng.integers(30, 400, size=int(np.count_nonzero(opted_in & withdrew)))  # withdrawal days


def _append_orders(
    session: Session,
    rng: np.random.Generator,
    purchases: list[CdnowPurchase],
    customers: list[int],
    id_of: dict[int, int],
    now: datetime,
    bar: Progress,
    task: TaskID,
) -> dict[int, int]:
    """Append the purchase log as order events; return each customer's revenue by person id
    (in the order of their first purchase)."""
    categories = [c for c, _ in MUSIC_CATEGORIES]
    weights = np.array([w for _, w in MUSIC_CATEGORIES])
    weights = weights / weights.sum()
    favourite = rng.choice(len(categories), size=len(customers), p=weights)
    favourite_of = dict(zip(customers, favourite, strict=True))
    revenue: dict[int, int] = {}
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
        person_id = id_of[p.customer_id]
        event_rows.append(
            (
                person_id,
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
        item_plan.append([(categories[c], price) for c, price in zip(picks, prices, strict=True)])
        revenue[person_id] = revenue.get(person_id, 0) + p.amount_minor
        bar.advance(task)
    items = [
        [
            (f"CD-{category[:3].upper()}-{price % 997:03d}", category, 1, price)
            for category, price in plan
        ]
        for plan in item_plan
    ]
    _replay_by_month(session, event_rows, items, now)
    return revenue


def _replay_by_month(
    session: Session, event_rows: list[tuple], items: list[list[tuple]], now: datetime
) -> None:
    """Append the orders a month at a time, the clock at each month's end, as the shop
    would have lived them.

    Through the timeline, so the event pipeline places every buyer in a stage as of that
    month; then everyone who has bought so far is placed again at the month's end, so
    lapses (no order for months) are dated when they happened. Appended in one go at the
    final clock, every stage change would be dated on the last day: no time in stage, one
    journey cohort. The clock ends at ``now``.
    """
    by_month: dict[tuple[int, int], list[int]] = {}
    for n, row in enumerate(event_rows):
        occurred: datetime = row[1]
        by_month.setdefault((occurred.year, occurred.month), []).append(n)
    buyers: set[int] = set()
    for (year, month), rows in sorted(by_month.items()):
        month_end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        moment = min(month_end, now)
        fix_now(session, moment)
        append_rows(
            session=session,
            rows=[event_rows[n] for n in rows],
            origin=DEMO_ORIGIN,
            items=[items[n] for n in rows],
        )
        buyers.update(event_rows[n][0] for n in rows)
        evaluate_people(session=session, person_ids=sorted(buyers), as_of=moment)
    fix_now(session, now)


def _person_row(person: DemoPerson, org_id: int | None) -> tuple:
    search = f"{person.first_name} {person.last_name} {' '.join(person.emails)}".lower()
    return (
        person.first_name,
        person.last_name,
        org_id,
        person.attributes(),
        search,
        person.created_at,
        person.created_at,
    )


def _identity(
    person_id: int, kind: str, value: str, now: datetime, *, primary: bool = True
) -> tuple:
    return (person_id, kind, "", value, value, primary, now)
