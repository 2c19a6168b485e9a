"""Per-customer aggregates of the event log, computed by ``GROUP BY`` in the database.

Two passes over the covering index ``ix_events_person_type_time`` (orders per person,
other events per person and type) yield everything a refresh needs, at two moments of
one timeline:

* ``as_of``: the RFM summary the scores are computed on;
* the churn ``cutoff`` (``as_of`` minus the churn horizon): the RFM summary and
  engagement counts the churn model trains on, and the labels (what happened after it);

the cutoff is also the end of the BG/NBD backtest's calibration period, its horizon the
holdout period.

Purchases are merged per calendar day (``COUNT(DISTINCT day)``); the total of a customer's
first purchase day, which the mean repeat-day value needs, comes from a correlated
subquery that range-seeks the same index. Grouping by (person, day) first instead took 5x
the plain per-person ``GROUP BY`` on SQLite (2M orders), which sorts the person-days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from tenure.customers.models import AttributeDefinition, AttributeType, Person
from tenure.db.dialect import Days
from tenure.scores.sql import day_number, midnight_after
from tenure.timeline.models import DERIVED_TYPES, Event

ORDER = "order"
REFUND = "refund"
#: Engagement and per-type counts look back this many days from the cutoff / as_of.
ENGAGEMENT_WINDOW_DAYS = 90
#: Per-type count features are kept for the most common event types only.
MAX_TYPE_FEATURES = 20

#: BG/NBD and Gamma-Gamma are fitted on at most this many customers (a seeded random
#: sample). The fits' cost grows with the number of distinct (frequency, recency, T)
#: triples; 50,000 customers give standard errors of a few percent of the estimates.
MAX_FIT_CUSTOMERS = 50_000

ORDER_COLUMNS = (
    "n_days",
    "first_day",
    "last_day",
    "revenue",
    "n_days_cut",
    "last_day_cut",
    "revenue_cut",
    "first_day_total",
)
COUNT_COLUMNS = ("amount", "last_day", "n_win_cut", "n_win_asof", "n_upto_cut", "n_after_cut")


@dataclass(frozen=True)
class Moments:
    """The days a refresh looks at, as day numbers (days since 1970-01-01, UTC).

    ``as_of`` is a timestamp: events after it are ignored. Its calendar day is
    ``as_of_day``; ``cutoff_day`` is ``horizon_days`` whole days before it, and "as of the
    cutoff" means "on or before that day".
    """

    as_of: datetime
    as_of_day: int
    cutoff_day: int

    @property
    def horizon_days(self) -> int:
        return self.as_of_day - self.cutoff_day

    @classmethod
    def build(cls, as_of: datetime, *, horizon_days: int) -> Moments:
        today = day_number(as_of.astimezone(UTC).date())
        return cls(as_of, today, today - horizon_days)


@dataclass(frozen=True)
class Aggregates:
    """What the database returned: one row per customer, one per (person, other type)."""

    orders: pd.DataFrame
    others: pd.DataFrame
    moments: Moments


def aggregate_events(
    connection: Connection, moments: Moments, *, churn_event_type: str | None
) -> Aggregates:
    """Run the two aggregates (orders per person, other events per person and type).

    Returns
    -------
    Aggregates
        ``orders``: indexed by person id, columns :data:`ORDER_COLUMNS` (days as day
        numbers, money in minor units, missing values as NaN). ``others``: columns
        ``person_id``, ``type`` and :data:`COUNT_COLUMNS` for non-order event types with
        events in a feature window, refunds, and the churn event type.
    """
    days = Days(connection.dialect.name)
    orders = _order_aggregates(connection, days, moments)
    others = _other_aggregates(connection, days, moments, churn_event_type)
    return Aggregates(orders=orders, others=others, moments=moments)


def _order_aggregates(connection: Connection, days: Days, moments: Moments) -> pd.DataFrame:
    """Per customer: purchase days, first/last day, revenue, as of ``as_of`` and the cutoff.

    ``WHERE type = 'order' GROUP BY person_id`` walks the covering index in its order, so
    nothing is sorted. Day boundaries are UTC midnights compared with the raw column:
    SQLite evaluates a function per row and per use, so plain comparisons leave only the
    two distinct-day counts to compute ``substr()``.
    """
    day = days.of(Event.occurred_at)
    before_cut = Event.occurred_at < midnight_after(moments.cutoff_day)
    inner = (
        select(
            Event.person_id,
            func.count(day.distinct()).label("n_days"),
            func.min(Event.occurred_at).label("first_at"),
            func.max(Event.occurred_at).label("last_at"),
            func.sum(Event.amount_minor).label("revenue"),
            func.count(case((before_cut, day)).distinct()).label("n_days_cut"),
            func.max(case((before_cut, Event.occurred_at))).label("last_cut_at"),
            func.sum(case((before_cut, Event.amount_minor))).label("revenue_cut"),
        )
        .where(Event.type == ORDER, Event.occurred_at <= moments.as_of)
        .group_by(Event.person_id)
        .subquery("a")
    )
    first = aliased(Event, name="e")
    # A range seek on (person_id, type, occurred_at): comparing the day of each of the
    # customer's orders instead made this subquery cost as much as the whole scan.
    first_day_total = (
        select(func.sum(first.amount_minor))
        .where(
            first.person_id == inner.c.person_id,
            first.type == ORDER,
            first.occurred_at >= days.start(inner.c.first_at),
            first.occurred_at < days.next_start(inner.c.first_at),
            first.occurred_at <= moments.as_of,
        )
        .scalar_subquery()
    )
    rows = connection.execute(
        select(
            inner.c.person_id,
            inner.c.n_days,
            days.number(inner.c.first_at),
            days.number(inner.c.last_at),
            inner.c.revenue,
            inner.c.n_days_cut,
            days.number(inner.c.last_cut_at),
            inner.c.revenue_cut,
            # Only repeat buyers need their first day's total (for the mean repeat value).
            case((inner.c.n_days > 1, first_day_total)),
        )
    ).all()
    frame = pd.DataFrame.from_records(
        rows, columns=["person_id", *ORDER_COLUMNS], coerce_float=True
    ).set_index("person_id")
    for column in ("first_day", "last_day", "last_day_cut"):
        frame[column] = days.decode(frame[column])
    return frame.astype(float)


def _other_aggregates(
    connection: Connection, days: Days, moments: Moments, churn_event_type: str | None
) -> pd.DataFrame:
    """Per (customer, non-order type): counts in the feature windows, around the cutoff."""
    before_cut = Event.occurred_at < midnight_after(moments.cutoff_day)
    window = ENGAGEMENT_WINDOW_DAYS
    in_cut_window = and_(
        before_cut, Event.occurred_at >= midnight_after(moments.cutoff_day - window)
    )
    in_now_window = Event.occurred_at >= midnight_after(moments.as_of_day - window)
    inner = (
        select(
            Event.person_id,
            Event.type,
            func.sum(Event.amount_minor).label("amount"),
            func.max(Event.occurred_at).label("last_at"),
            func.count(case((in_cut_window, 1))).label("n_win_cut"),
            func.count(case((in_now_window, 1))).label("n_win_asof"),
            func.count(case((before_cut, 1))).label("n_upto_cut"),
            func.count().label("n_total"),
        )
        .where(Event.type.not_in((ORDER, *DERIVED_TYPES)), Event.occurred_at <= moments.as_of)
        .group_by(Event.person_id, Event.type)
        .subquery("o")
    )
    keep = [inner.c.type == REFUND, inner.c.n_win_cut > 0, inner.c.n_win_asof > 0]
    if churn_event_type:
        keep.append(inner.c.type == churn_event_type)
    rows = connection.execute(
        select(
            inner.c.person_id,
            inner.c.type,
            inner.c.amount,
            days.number(inner.c.last_at),
            inner.c.n_win_cut,
            inner.c.n_win_asof,
            inner.c.n_upto_cut,
            inner.c.n_total,
        ).where(or_(*keep))
    ).all()
    frame = pd.DataFrame.from_records(
        rows, columns=["person_id", "type", *COUNT_COLUMNS[:-1], "n_total"], coerce_float=True
    )
    frame["last_day"] = days.decode(frame["last_day"])
    frame["amount"] = pd.to_numeric(frame["amount"]).astype(float)
    frame["n_after_cut"] = frame.pop("n_total") - frame["n_upto_cut"]
    return frame


def rfm_as_of(orders: pd.DataFrame, moment: str, day: int) -> pd.DataFrame:
    """RFM summary in days at ``as_of`` (``moment="asof"``) or at a past day.

    Parameters
    ----------
    orders : pandas.DataFrame
        :attr:`Aggregates.orders`.
    moment : {"asof", "cut"}
        Which of the aggregated moments.
    day : int
        Its day number.

    Returns
    -------
    pandas.DataFrame
        Customers with a purchase by then: ``purchase_days``, ``frequency`` (repeat days),
        ``recency`` (last minus first purchase day), ``T`` (``day`` minus first purchase
        day), ``recency_days`` (``day`` minus last purchase day), ``revenue`` and
        ``monetary`` (mean repeat-day total, 0 without repeats), money in minor units.
    """
    suffix = "" if moment == "asof" else f"_{moment}"
    n_days = orders[f"n_days{suffix}"]
    present = orders[n_days > 0]
    n = present[f"n_days{suffix}"].to_numpy()
    first = present["first_day"].to_numpy()
    last = present[f"last_day{suffix}"].to_numpy()
    frequency = n - 1
    out = pd.DataFrame(
        {
            "purchase_days": n.astype(np.int64),
            "frequency": frequency.astype(np.int64),
            "recency": last - first,
            "T": day - first,
            "recency_days": day - last,
        },
        index=present.index,
    )
    revenue = present["revenue" if moment == "asof" else "revenue_cut"].to_numpy()
    repeat = revenue - np.nan_to_num(present["first_day_total"].to_numpy())
    out["revenue"] = revenue
    out["monetary"] = np.divide(repeat, frequency, out=np.zeros(len(out)), where=frequency > 0)
    return out


def event_counts(others: pd.DataFrame, column: str, exclude: set[str]) -> pd.DataFrame:
    """Per-person counts of each other event type (wide), for ``column`` of the aggregates.

    Types in ``exclude`` are left out; at most :data:`MAX_TYPE_FEATURES` types, the most
    common ones, become columns ``events_<type>_90d``.
    """
    rows = others[~others["type"].isin(exclude) & (others[column] > 0)]
    if rows.empty:
        return pd.DataFrame(index=pd.Index([], name="person_id"))
    wide = rows.pivot_table(
        index="person_id", columns="type", values=column, aggfunc="sum", fill_value=0
    )
    common = wide.sum().sort_values(ascending=False).index[:MAX_TYPE_FEATURES]
    wide = wide[sorted(common)]
    wide.columns = [f"events_{t}_{ENGAGEMENT_WINDOW_DAYS}d" for t in wide.columns]
    return wide.astype(float)


def custom_attributes(connection: Connection) -> pd.DataFrame:
    """Declared number and choice attributes of every person, one column each.

    Attributes have no history, so the churn model sees their current values at the
    cutoff too; declare as attributes only facts that do not record the outcome.
    """
    definitions = connection.execute(
        select(AttributeDefinition.key, AttributeDefinition.type).where(
            AttributeDefinition.entity == "person",
            AttributeDefinition.type.in_((AttributeType.number, AttributeType.choice)),
        )
    ).all()
    if not definitions:
        return pd.DataFrame(index=pd.Index([], name="person_id"))
    expressions = []
    for key, kind in definitions:
        value = Person.attributes[key]
        expressions.append(value.as_float() if kind == AttributeType.number else value.as_string())
    names = [f"attr_{key}" for key, _ in definitions]
    rows = connection.execute(
        select(Person.id, *[e.label(n) for e, n in zip(expressions, names, strict=True)]).where(
            or_(*[e.isnot(None) for e in expressions])
        )
    ).all()
    frame = pd.DataFrame.from_records(rows, columns=["person_id", *names]).set_index("person_id")
    for (_key, kind), name in zip(definitions, names, strict=True):
        if kind == AttributeType.number:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def sample_rows(frame: pd.DataFrame, size: int = MAX_FIT_CUSTOMERS) -> pd.DataFrame:
    """At most ``size`` rows, a random sample seeded by the frame's length (repeatable)."""
    if len(frame) <= size:
        return frame
    rng = np.random.default_rng(len(frame))
    return frame.iloc[np.sort(rng.choice(len(frame), size, replace=False))]
