"""Alert episodes and the owner's task: once per episode, with hysteresis.

An episode opens when a customer's risk reaches ``risk_threshold`` and stays open until
the risk falls below ``clear_threshold`` (lower), so a risk that wavers around the
threshold from one night to the next does not alert again. The owner (the customer's
``owner_id``, else the ``fallback_owner_id`` user) gets one task per episode, as soon as
the customer is valuable: a 12-month CLV at or above the ``value_quantile`` of all scored
customers. A customer who becomes valuable during an open episode gets the task then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Float, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from tenure.customers.activities import create_task
from tenure.customers.models import Person
from tenure.customers.schemas import TaskCreate
from tenure.db.bulk import insert_rows
from tenure.db.dialect import member_of
from tenure.identity.models import User
from tenure.identity.permissions import READ_ONLY_ROLES
from tenure.retention.models import RetentionAlert
from tenure.retention.risk import Assessment
from tenure.retention.schemas import RetentionConfig
from tenure.scores.models import PersonScore

# Minor units per major unit where ISO 4217 says other than 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3}


@dataclass
class AlertOutcome:
    opened: int = 0
    closed: int = 0
    tasks: int = 0


def money_words(amount_minor: int | None, currency: str | None) -> str:
    if amount_minor is None:
        return "unknown"
    exponent = _EXPONENTS.get(currency or "", 2)
    return f"{amount_minor / 10**exponent:,.{exponent}f} {currency or ''}".strip()


def value_threshold(session: Session, quantile: float) -> int | None:
    """The 12-month CLV at ``quantile`` of scored customers, or None without CLVs.

    Read with ORDER BY ... OFFSET on the indexed column: an index walk, not a load.
    """
    values = PersonScore.clv_12m_minor
    count = session.scalar(select(func.count(values))) or 0
    if count == 0:
        return None
    offset = min(count - 1, int(count * quantile))
    ordered = select(values).where(values.isnot(None)).order_by(values).offset(offset).limit(1)
    return session.scalar(ordered)


def _assignees(
    session: Session, person_ids: list[int], fallback: int | None
) -> dict[int, int | None]:
    """Who gets each customer's task: the owner if active, else an active fallback user;
    never a read-only role (an analyst owner's customers go to the fallback)."""
    if not person_ids:
        return {}
    read_only = [role.value for role in READ_ONLY_ROLES]
    connection = session.connection()
    owners = dict(
        connection.execute(
            select(Person.id, Person.owner_id)
            .join(User, User.id == Person.owner_id)
            .where(
                member_of(connection, Person.id, person_ids),
                User.is_active.is_(True),
                User.role.not_in(read_only),
            )
        ).all()
    )
    if fallback is not None:
        user = session.get(User, fallback)
        usable = user is not None and user.is_active and user.role not in read_only
        fallback = fallback if usable else None
    return {pid: owners.get(pid, fallback) for pid in person_ids}


def task_text(
    name: str, assessment: Assessment, config: RetentionConfig, as_of: datetime
) -> tuple[str, str]:
    """The task's title and description: risk, value, and the reasons in plain words."""
    value = money_words(assessment.value_minor, assessment.currency)
    title = f"Retention risk: {name} ({assessment.risk:.0%} risk, 12-month value {value})"
    lines = [
        f"Risk {assessment.risk:.0%} (alert threshold {config.risk_threshold:.0%}).",
        f"Predicted 12-month value {value}; value at risk "
        f"{money_words(assessment.value_at_risk_minor, assessment.currency)}.",
        "Why:",
        *(f"- {r['text']}" for r in assessment.reasons),
        f"Raised by the retention refresh as of {as_of:%Y-%m-%d}; it will not be raised "
        f"again until the risk falls below {config.clear_threshold:.0%}.",
    ]
    return title[:300], "\n".join(lines)


@dataclass
class _Episode:
    id: int
    person_id: int
    notified: bool


def update_alerts(
    *,
    session: Session,
    assessments: list[Assessment],
    config: RetentionConfig,
    as_of: datetime,
    now: datetime,
) -> AlertOutcome:
    """Open, keep or close each customer's episode; create the owner's task once per episode.

    Core statements rather than ORM objects: a first refresh of a large workspace opens
    thousands of episodes (4,613 on the demo), which the unit of work would insert and
    update one by one.
    """
    connection = session.connection()
    table = cast(Table, RetentionAlert.__table__)
    by_person = {a.person_id: a for a in assessments}
    open_rows = connection.execute(
        select(RetentionAlert.id, RetentionAlert.person_id, RetentionAlert.notified_at).where(
            RetentionAlert.closed_at.is_(None)
        )
    ).all()
    episodes = {p: _Episode(i, p, notified is not None) for i, p, notified in open_rows}
    closing, keeping, closed_people = [], [], []
    for person_id, episode in episodes.items():
        found = by_person.get(person_id)
        risk = found.risk if found else 0.0
        if risk < config.clear_threshold:
            closing.append({"b_id": episode.id, "b_risk": risk})
            closed_people.append(person_id)
        else:
            keeping.append(
                {
                    "b_id": episode.id,
                    "b_risk": risk,
                    "b_value": found.value_minor if found else None,
                    "b_currency": found.currency if found else None,
                }
            )
    by_id = table.c.id == bindparam("b_id")
    risk_param = bindparam("b_risk", type_=Float())
    if closing:
        connection.execute(
            update(table)
            .where(by_id)
            .values(closed_at=now, closed_as_of=as_of, last_risk=risk_param),
            closing,
        )
    if keeping:
        peak = case((table.c.peak_risk < risk_param, risk_param), else_=table.c.peak_risk)
        connection.execute(
            update(table)
            .where(by_id)
            .values(
                last_risk=risk_param,
                peak_risk=peak,
                value_minor=bindparam("b_value"),
                currency=bindparam("b_currency"),
            ),
            keeping,
        )
    for person_id in closed_people:
        del episodes[person_id]

    new = [
        a for a in assessments if a.risk >= config.risk_threshold and a.person_id not in episodes
    ]
    columns = (
        "person_id",
        "opened_at",
        "opened_as_of",
        "risk_at_open",
        "last_risk",
        "peak_risk",
        "value_minor",
        "currency",
        "reasons",
    )
    rows = [
        (a.person_id, now, as_of, a.risk, a.risk, a.risk, a.value_minor, a.currency, a.reasons)
        for a in new
    ]
    ids = insert_rows(connection, table, columns, rows, return_ids=True)
    for a, alert_id in zip(new, ids, strict=True):
        episodes[a.person_id] = _Episode(alert_id, a.person_id, False)
    tasks = _notify(session, episodes, by_person, config, as_of, now)
    return AlertOutcome(opened=len(new), closed=len(closing), tasks=tasks)


def _notify(
    session: Session,
    episodes: dict[int, _Episode],
    by_person: dict[int, Assessment],
    config: RetentionConfig,
    as_of: datetime,
    now: datetime,
) -> int:
    """Create the task of every open, not yet notified episode of a valuable customer."""
    threshold = value_threshold(session, config.value_quantile)
    if threshold is None:
        return 0
    due = []
    for person_id, episode in episodes.items():
        found = by_person.get(person_id)
        if episode.notified or found is None or found.value_minor is None:
            continue
        if found.value_minor >= threshold:
            due.append((episode, found))
    if not due:
        return 0
    person_ids = [e.person_id for e, _ in due]
    assignees = _assignees(session, person_ids, config.fallback_owner_id)
    # One query puts every customer in the identity map (held by ``people``: the map is
    # weak), so create_task's existence check costs no round trip (measured: 7.8 s of
    # 10.5 s for the demo's 539 tasks without it).
    connection = session.connection()
    people = list(
        session.scalars(select(Person).where(member_of(connection, Person.id, person_ids)))
    )
    names = {p.id: f"{p.first_name} {p.last_name}".strip() or f"person {p.id}" for p in people}
    updates = []
    for episode, found in due:
        title, description = task_text(names[episode.person_id], found, config, as_of)
        task = create_task(
            session=session,
            data=TaskCreate(
                title=title,
                description=description,
                assignee_id=assignees[episode.person_id],
                due_at=now + timedelta(days=config.task_due_days),
            ),
            actor_id=None,
            person_id=episode.person_id,
        )
        updates.append({"b_id": episode.id, "b_task": task.id, "b_assignee": task.assignee_id})
    table = cast(Table, RetentionAlert.__table__)
    connection.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(task_id=bindparam("b_task"), assignee_id=bindparam("b_assignee"), notified_at=now),
        updates,
    )
    return len(updates)
