"""Organizations seen whole: the list with roll-ups, and one organization's page data.

A roll-up adds up an organization's people and its own work, in SQL, for the
organizations of one page only (so a list of 100,000 organizations costs what its page
of 50 costs):

- **people**: the people whose organization it is;
- **revenue**: their orders minus refunds, per currency, all time and over the 30 days
  up to the workspace's today (``workspace.clock``);
- **open tasks**: tasks not done, on the organization or on any of its people;
- **last activity**: the newest event of its people or logged on it, except the ones
  Tenure derives itself (stage changes, segment entries and exits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from tenure.customers import queries
from tenure.customers.models import Person, Task
from tenure.identity.models import User
from tenure.timeline.models import DERIVED_TYPES, Event
from tenure.workspace import clock

RECENT_REVENUE_DAYS = 30
MAX_PEOPLE_SHOWN = 500
OPEN_TASKS_SHOWN = 100


@dataclass
class Rollup:
    people: int = 0
    #: currency -> net minor units, all time and over the last RECENT_REVENUE_DAYS days
    revenue: dict[str | None, int] = field(default_factory=dict)
    revenue_recent: dict[str | None, int] = field(default_factory=dict)
    open_tasks: int = 0
    last_activity_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "revenue": _money_list(self.revenue),
            "revenue_last_30_days": _money_list(self.revenue_recent),
            "open_tasks": self.open_tasks,
            "last_activity_at": self.last_activity_at,
        }


def _money_list(totals: dict[str | None, int]) -> list[dict[str, Any]]:
    return [
        {"currency": currency, "amount_minor": amount}
        for currency, amount in sorted(totals.items(), key=lambda item: item[0] or "")
    ]


def rollups(
    session: Session, organization_ids: Sequence[int], today: datetime
) -> dict[int, Rollup]:
    """The roll-up of each organization of ``organization_ids`` (see the module doc)."""
    ids = list(organization_ids)
    found = {org_id: Rollup() for org_id in ids}
    if not ids:
        return found
    connection = session.connection()
    member_org = Person.organization_id
    counts: Any = connection.execute(
        select(member_org, func.count()).where(member_org.in_(ids)).group_by(member_org)
    )
    for org_id, count in counts:
        found[org_id].people = int(count)

    signed = case((Event.type == "refund", -Event.amount_minor), else_=Event.amount_minor)
    recent = Event.occurred_at > today - timedelta(days=RECENT_REVENUE_DAYS)
    revenue = (
        select(
            member_org,
            Event.currency,
            func.sum(signed),
            func.sum(case((recent, signed), else_=0)),
        )
        .join(Person, Person.id == Event.person_id)
        .where(
            member_org.in_(ids),
            Event.type.in_(("order", "refund")),
            Event.occurred_at <= today,
        )
        .group_by(member_org, Event.currency)
    )
    for org_id, currency, total, last_days in connection.execute(revenue):
        found[org_id].revenue[currency] = int(total or 0)
        if last_days:
            found[org_id].revenue_recent[currency] = int(last_days)

    open_task = Task.done_at.is_(None)
    tasks = union_all(
        select(Task.organization_id.label("org_id")).where(
            Task.organization_id.in_(ids), open_task
        ),
        select(member_org.label("org_id"))
        .join(Task, Task.person_id == Person.id)
        .where(member_org.in_(ids), open_task),
    ).subquery("open_tasks")
    for org_id, count in connection.execute(
        select(tasks.c.org_id, func.count()).group_by(tasks.c.org_id)
    ):
        found[org_id].open_tasks = int(count)

    done_by_someone = Event.type.not_in(DERIVED_TYPES)
    latest = union_all(
        select(Event.organization_id.label("org_id"), func.max(Event.occurred_at).label("at"))
        .where(Event.organization_id.in_(ids), done_by_someone)
        .group_by(Event.organization_id),
        select(member_org.label("org_id"), func.max(Event.occurred_at).label("at"))
        .join(Person, Person.id == Event.person_id)
        .where(member_org.in_(ids), done_by_someone)
        .group_by(member_org),
    ).subquery("latest")
    for org_id, at in connection.execute(
        select(latest.c.org_id, func.max(latest.c.at)).group_by(latest.c.org_id)
    ):
        found[org_id].last_activity_at = at
    return found


def list_organizations(
    session: Session,
    *,
    q: str | None = None,
    tag: str | None = None,
    owner_id: int | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of organizations (``customers.queries.list_organizations``: ``q`` matches the
    name or the domain), each with its owner's name and its roll-up."""
    page = queries.list_organizations(
        session, q=q, tag=tag, owner_id=owner_id, sort=sort, cursor=cursor, limit=limit
    )
    today = clock.now(session)
    by_id = rollups(session, [o["id"] for o in page.items], today)
    owners = _owner_names(session, {o["owner_id"] for o in page.items if o["owner_id"]})
    rows = [
        {**org, "owner": owners.get(org["owner_id"]), **by_id[org["id"]].as_dict()}
        for org in page.items
    ]
    return rows, page.next_cursor


def _owner_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(user_ids)))
    return {uid: name or email for uid, name, email in rows}


def organization_summary(session: Session, organization_id: int) -> dict[str, Any]:
    """The organization with its owner and roll-up, as of the workspace's today."""
    org = queries.organization_dict(queries.get_organization(session, organization_id))
    today = clock.now(session)
    owners = _owner_names(session, {org["owner_id"]} if org["owner_id"] else set())
    rollup = rollups(session, [organization_id], today)[organization_id]
    return {**org, "owner": owners.get(org["owner_id"]), "as_of": today, **rollup.as_dict()}


def organization_people(
    session: Session, organization_id: int, *, limit: int = MAX_PEOPLE_SHOWN
) -> list[dict[str, Any]]:
    """Its first ``limit`` people by name: id, name, job title, owner id."""
    rows = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Person.job_title, Person.owner_id)
        .where(Person.organization_id == organization_id)
        .order_by(Person.last_name, Person.first_name, Person.id)
        .limit(limit)
    )
    return [row._asdict() for row in rows]


def open_tasks(session: Session, organization_id: int) -> list[dict[str, Any]]:
    """Open tasks on the organization or its people, soonest due first (undated last)."""
    members = select(Person.id).where(Person.organization_id == organization_id)
    rows = session.execute(
        select(
            Task.id,
            Task.title,
            Task.description,
            Task.due_at,
            Task.assignee_id,
            Task.person_id,
            (Person.first_name + literal(" ") + Person.last_name).label("person_name"),
        )
        .outerjoin(Person, Person.id == Task.person_id)
        .where(
            Task.done_at.is_(None),
            (Task.organization_id == organization_id) | Task.person_id.in_(members),
        )
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .limit(OPEN_TASKS_SHOWN)
    )
    return [row._asdict() for row in rows]
