"""Per-customer aggregates of the event log, computed in the database.

Everything a refresh needs, at two moments of one timeline:

* ``as_of``: the RFM summary the scores are computed on;
* the churn ``cutoff`` (``as_of`` minus the churn horizon): the RFM summary and
  engagement counts the churn model trains on, and the labels (what happened after it);

the cutoff is also the end of the BG/NBD backtest's calibration period, its horizon the
holdout period.

Purchases are merged per calendar day (UTC). The orders' figures as of ``as_of`` come
from ``order_totals``, which triggers keep current on every write of an order
(``timeline.order_totals``): one row per customer instead of every order. Those at the
cutoff are the same minus what came after it, read by range seeks for the customers
whose last order is after it. A refresh of the past (orders later than ``as_of`` exist)
aggregates the orders themselves instead, in one pass over the covering index
``ix_events_person_type_time``: there every aggregate evaluated per row costs 0.15-0.25x
of the scan (SQLite, CPU time, even under ``FILTER``), so the statement keeps few of them;
grouping by (person, day) first, a ``lag()`` window and one pass for orders and other
events together were measured slower. Other events are counted per (person, type) in a
second pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    Select,
    Table,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from tenure.customers.models import AttributeDefinition, AttributeType, Person
from tenure.db.bulk import driver_rows, float_rows
from tenure.db.dialect import Days
from tenure.db.snapshot import side_by_side
from tenure.scores.sql import day_number, midnight_after
from tenure.timeline.models import DERIVED_TYPES, Event, OrderTotal

EVENTS = cast(Table, Event.__table__)
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
    """Run the aggregates (orders per person, other events per person and type), two
    at a time on one snapshot where the connection allows it
    (:func:`tenure.db.snapshot.side_by_side`).

    Returns
    -------
    Aggregates
        ``orders``: indexed by person id, columns :data:`ORDER_COLUMNS` (days as day
        numbers, money in minor units, missing values as NaN). ``others``: columns
        ``person_id``, ``type`` and :data:`COUNT_COLUMNS` for non-order event types with
        events in a feature window, refunds, and the churn event type.
    """
    days = Days(connection.dialect.name)
    up_to = _up_to(connection, moments.as_of)
    if up_to:  # a refresh of the past: the totals include later orders
        orders, others = side_by_side(
            connection,
            lambda reader: _aggregate_orders(reader, days, moments, up_to),
            lambda reader: _aggregate_others(reader, days, moments, up_to, churn_event_type),
        )
    else:
        # The seeks after the cutoff are the longest read: beside the other two.
        (totals, others), after = side_by_side(
            connection,
            lambda reader: (
                _order_totals(reader),
                _other_aggregates(reader, days, moments, churn_event_type),
            ),
            lambda reader: _after_cutoff(reader, days, moments),
        )
        orders = _orders_from_totals(totals, after)
    return Aggregates(orders=orders, others=others, moments=moments)


def _order_totals(connection: Connection) -> pd.DataFrame:
    """Per customer, as of now: purchase days, first/last day, revenue, first day's
    total, from the totals the database keeps (``order_totals``)."""
    totals = OrderTotal.__table__.c
    values = float_rows(
        connection,
        select(
            totals.person_id,
            totals.order_days,
            totals.first_order_day,
            totals.last_order_day,
            totals.revenue_minor,
            totals.first_day_revenue_minor,
        ).where(totals.order_count > 0),
    )
    columns = ["n_days", "first_day", "last_day", "revenue", "first_day_total"]
    return pd.DataFrame(
        values[:, 1:],
        index=pd.Index(values[:, 0].astype(np.int64), name="person_id"),
        columns=columns,
    )


def _orders_from_totals(totals: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """:data:`ORDER_COLUMNS` from the totals as of now (``as_of``: no order is later)
    and the figures after the cutoff (:func:`_after_cutoff`).

    The cutoff is a UTC midnight, so no purchase day straddles it: the figures at the
    cutoff are those as of ``as_of`` minus those after the cutoff, which only the
    customers with an order after it have. A refresh of the past (orders later than
    ``as_of`` exist) aggregates the orders themselves instead (:func:`_aggregate_orders`).
    """
    # In id order, as the aggregation returns them: the models' samples are drawn by
    # position, and a trigger's recompute moves a row to the end of PostgreSQL's heap.
    frame = totals.join(after)
    return _order_frame(frame if frame.index.is_monotonic_increasing else frame.sort_index())


def _after_cutoff(connection: Connection, days: Days, moments: Moments) -> pd.DataFrame:
    """Purchase days and revenue after the cutoff, and the last order before it, of the
    customers whose last order is after it: range seeks on the covering index, for
    each of those customers.

    On PostgreSQL the figures after the cutoff are a ``LATERAL`` aggregate per customer:
    as a join and a ``GROUP BY`` its planner chose a parallel scan of every event, a hash
    join and a sort, 3.1-4.1 s at 1M customers (359k of them after the cutoff) on all
    its workers. The seeks take 3.3-4.0 s on one core alone, but the other read runs
    beside them: the whole aggregation took 4.6-5.5 s against 5.6-7.0 s. SQLite has no
    ``LATERAL``, and its planner seeks already."""
    totals = OrderTotal.__table__.c
    cut = midnight_after(moments.cutoff_day)
    e = aliased(Event, name="e")
    last_before_cut = (
        select(func.max(e.occurred_at))
        .where(e.person_id == totals.person_id, e.type == ORDER, e.occurred_at < cut)
        .scalar_subquery()
    )
    after = aliased(Event, name="a")
    in_range = and_(
        after.person_id == totals.person_id, after.type == ORDER, after.occurred_at >= cut
    )
    figures = (func.count(days.of(after.occurred_at).distinct()), func.sum(after.amount_minor))
    if connection.dialect.name == "postgresql":
        per_customer = select(*figures).where(in_range).lateral("f")
        statement = select(
            totals.person_id, *per_customer.c, days.number(last_before_cut)
        ).select_from(OrderTotal.__table__.join(per_customer, true()))
    else:
        statement = (
            select(totals.person_id, *figures, days.number(last_before_cut))
            .select_from(OrderTotal.__table__.join(after, in_range))
            .group_by(totals.person_id)
        )
    rows = driver_rows(connection, statement.where(totals.last_order_day > moments.cutoff_day))
    after_cut = pd.DataFrame.from_records(
        rows,
        columns=["person_id", "n_days_after", "revenue_after", "last_day_cut"],
        coerce_float=True,
    ).set_index("person_id")
    after_cut["last_day_cut"] = days.decode(after_cut["last_day_cut"])
    return after_cut


def _order_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:data:`ORDER_COLUMNS` from the figures as of ``as_of`` and those after the cutoff
    (missing for a customer without orders after it), days as day numbers."""
    frame = frame.astype(float)
    n_after = frame.pop("n_days_after").fillna(0.0)
    frame["n_days_cut"] = frame["n_days"] - n_after
    frame["last_day_cut"] = frame["last_day_cut"].where(n_after > 0, frame["last_day"])
    frame["revenue_cut"] = frame["revenue"] - frame.pop("revenue_after").fillna(0.0)
    frame["first_day_total"] = frame["first_day_total"].where(frame["n_days"] > 1)
    return frame[list(ORDER_COLUMNS)]


def _aggregate_orders(
    connection: Connection, days: Days, moments: Moments, up_to: list[ColumnElement[bool]]
) -> pd.DataFrame:
    """:func:`_order_aggregates` from the orders themselves, up to ``as_of``.

    One ``WHERE type = 'order' GROUP BY person_id`` over the covering index, in its
    order, so nothing is sorted; the aggregates after the cutoff run (``FILTER``) on the
    few rows after it only. Day boundaries are UTC midnights compared with the raw
    column: SQLite evaluates a function per row and per use.
    """
    day = days.of(Event.occurred_at)
    cut = midnight_after(moments.cutoff_day)
    after_cut = Event.occurred_at >= cut
    inner = (
        select(
            Event.person_id,
            func.count(day.distinct()).label("n_days"),
            func.min(Event.occurred_at).label("first_at"),
            func.max(Event.occurred_at).label("last_at"),
            func.sum(Event.amount_minor).label("revenue"),
            func.count(day.distinct()).filter(after_cut).label("n_days_after"),
            func.sum(Event.amount_minor).filter(after_cut).label("revenue_after"),
        )
        .where(Event.type == ORDER, *up_to)
        .group_by(Event.person_id)
        .subquery("a")
    )
    e = aliased(Event, name="e")
    # Range seeks on (person_id, type, occurred_at), for the customers who need them: a
    # repeat buyer's first day (its total gives the mean repeat-day value), and the last
    # order before the cutoff of those who bought after it (the others' is their last).
    first_day_total = (
        select(func.sum(e.amount_minor))
        .where(
            e.person_id == inner.c.person_id,
            e.type == ORDER,
            e.occurred_at >= inner.c.first_at,
            e.occurred_at < days.next_start(inner.c.first_at),
            e.occurred_at <= moments.as_of,
        )
        .scalar_subquery()
    )
    last_before_cut = (
        select(func.max(e.occurred_at))
        .where(e.person_id == inner.c.person_id, e.type == ORDER, e.occurred_at < cut)
        .scalar_subquery()
    )
    rows = connection.execute(
        select(
            inner.c.person_id,
            inner.c.n_days,
            days.number(inner.c.first_at),
            days.number(inner.c.last_at),
            inner.c.revenue,
            case((inner.c.n_days > 1, first_day_total)),
            inner.c.n_days_after,
            days.number(case((inner.c.n_days_after > 0, last_before_cut))),
            inner.c.revenue_after,
        )
    ).all()
    frame = pd.DataFrame.from_records(
        rows,
        columns=[
            "person_id",
            "n_days",
            "first_day",
            "last_day",
            "revenue",
            "first_day_total",
            "n_days_after",
            "last_day_cut",
            "revenue_after",
        ],
        coerce_float=True,
    ).set_index("person_id")
    for column in ("first_day", "last_day", "last_day_cut"):
        frame[column] = days.decode(frame[column])
    return _order_frame(frame)


def _up_to(connection: Connection, as_of: datetime) -> list[ColumnElement[bool]]:
    """``occurred_at <= as_of``, or nothing when no event is later (a nightly refresh
    scores as of now): the comparison costs a sixth of the scan on SQLite, and the
    latest event is one seek on ``ix_events_time``."""
    latest = connection.scalar(select(func.max(Event.occurred_at)))
    if latest is not None and latest <= as_of:
        return []
    return [Event.occurred_at <= as_of]


def _other_aggregates(
    connection: Connection, days: Days, moments: Moments, churn_event_type: str | None
) -> pd.DataFrame:
    """Per (customer, non-order type): counts in the feature windows, around the cutoff.

    The window counts come from a range of the time index (``ix_events_time`` holds
    person and type: no row is read), refunds from ``order_totals``, the churn event
    type's whole history from a seek for each customer. A refresh of the past aggregates
    every event instead (:func:`_aggregate_others`).
    """
    if churn_event_type == REFUND:  # a refund ends the relationship: its whole history
        totals = _type_totals(connection, days, moments, REFUND)
    else:
        totals = _refund_totals(connection)
        if churn_event_type:
            churn = _type_totals(connection, days, moments, churn_event_type)
            totals = pd.concat([totals, churn], ignore_index=True)
    frame = _window_counts(connection, moments).merge(totals, on=["person_id", "type"], how="outer")
    for column in COUNT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    for column in ("n_win_cut", "n_win_asof"):
        frame[column] = frame[column].fillna(0.0)
    return frame[["person_id", "type", *COUNT_COLUMNS]]


def _sorted_by_hand(connection: Connection, column: Column[Any]) -> tuple[Any]:
    """``column`` as a GROUP BY term that no index order satisfies, on SQLite: its
    planner otherwise scans ``ix_events_person_type_time`` whole (10M entries, 1.5 s)
    to spare sorting the rows of a time range (2.7M entries of ``ix_events_time``
    then 200k rows to sort, 0.6 s). Unary ``+`` is SQLite's documented way to keep an
    index out of a term."""
    if connection.dialect.name == "sqlite":
        return (literal_column(f"+{column.table.name}.{column.name}"),)
    return (column,)


def _refund_totals(connection: Connection) -> pd.DataFrame:
    """Each customer's refunds in total, from ``order_totals``."""
    totals = OrderTotal.__table__.c
    rows = driver_rows(
        connection,
        select(totals.person_id, totals.refund_minor).where(totals.refund_minor.is_not(None)),
    )
    frame = pd.DataFrame.from_records(rows, columns=["person_id", "amount"], coerce_float=True)
    frame["type"] = REFUND
    return frame.astype({"amount": float})


def _window_counts(connection: Connection, moments: Moments) -> pd.DataFrame:
    """Events per (person, non-order type) in the 90 days up to the cutoff and up to
    ``as_of``: only the rows since the first window's start."""
    cut = midnight_after(moments.cutoff_day)
    window = ENGAGEMENT_WINDOW_DAYS
    rows = connection.execute(
        select(
            Event.person_id,
            Event.type,
            func.count().filter(Event.occurred_at < cut),
            func.count().filter(Event.occurred_at >= midnight_after(moments.as_of_day - window)),
        )
        .where(
            Event.occurred_at >= midnight_after(moments.cutoff_day - window),
            Event.type.not_in((ORDER, *DERIVED_TYPES)),
        )
        .group_by(*_sorted_by_hand(connection, EVENTS.c.person_id), Event.type)
    ).all()
    frame = pd.DataFrame.from_records(
        rows, columns=["person_id", "type", "n_win_cut", "n_win_asof"], coerce_float=True
    )
    frame = frame[frame["person_id"].notna()]  # events of an organization itself
    return frame.astype({"person_id": np.int64, "n_win_cut": float, "n_win_asof": float})


def _type_totals(connection: Connection, days: Days, moments: Moments, kind: str) -> pd.DataFrame:
    """Amount, last day and counts up to and after the cutoff of events of type ``kind``
    (the churn event), per customer: a seek on ``(person_id, type)`` for each row of
    ``order_totals``."""
    totals = OrderTotal.__table__.c
    inner = (
        select(*_per_type_columns(moments))
        .select_from(OrderTotal)
        .join(Event, and_(Event.person_id == totals.person_id, Event.type == kind))
        .group_by(Event.person_id, Event.type)
        .subquery("t")
    )
    return _count_frame(connection, days, select(inner), ())


def _per_type_columns(moments: Moments, *windows: Any) -> list[Any]:
    """Per (person, type): amount, last event, the ``windows`` counts, and the counts up
    to the cutoff and in all (what :func:`_count_frame` reads)."""
    before_cut = Event.occurred_at < midnight_after(moments.cutoff_day)
    return [
        Event.person_id,
        Event.type,
        func.sum(Event.amount_minor).label("amount"),
        func.max(Event.occurred_at).label("last_at"),
        *windows,
        func.count().filter(before_cut).label("n_upto_cut"),
        func.count().label("n_total"),
    ]


def _count_frame(
    connection: Connection, days: Days, statement: Select[Any], windows: Sequence[str]
) -> pd.DataFrame:
    """The rows of a per-(person, type) subquery: its amount, last day (a day number),
    the ``windows`` counts, and the counts up to and after the cutoff."""
    inner = statement.selected_columns
    rows = connection.execute(
        statement.with_only_columns(
            inner.person_id,
            inner.type,
            inner.amount,
            days.number(inner.last_at),
            *(inner[name] for name in windows),
            inner.n_upto_cut,
            inner.n_total,
        )
    ).all()
    columns = ["person_id", "type", "amount", "last_day", *windows, "n_upto_cut", "n_total"]
    frame = pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)
    frame["last_day"] = days.decode(frame["last_day"])
    frame["amount"] = pd.to_numeric(frame["amount"]).astype(float)
    frame["n_upto_cut"] = frame["n_upto_cut"].astype(float)
    frame["n_after_cut"] = frame.pop("n_total") - frame["n_upto_cut"]
    return frame


def _aggregate_others(
    connection: Connection,
    days: Days,
    moments: Moments,
    up_to: list[ColumnElement[bool]],
    churn_event_type: str | None,
) -> pd.DataFrame:
    """:func:`_other_aggregates` from every event up to ``as_of``, in one pass."""
    window = ENGAGEMENT_WINDOW_DAYS
    in_cut_window = and_(
        Event.occurred_at < midnight_after(moments.cutoff_day),
        Event.occurred_at >= midnight_after(moments.cutoff_day - window),
    )
    in_now_window = Event.occurred_at >= midnight_after(moments.as_of_day - window)
    inner = (
        select(
            *_per_type_columns(
                moments,
                func.count().filter(in_cut_window).label("n_win_cut"),
                func.count().filter(in_now_window).label("n_win_asof"),
            )
        )
        .where(Event.type.not_in((ORDER, *DERIVED_TYPES)), *up_to)
        .group_by(Event.person_id, Event.type)
        .subquery("o")
    )
    keep = [inner.c.type == REFUND, inner.c.n_win_cut > 0, inner.c.n_win_asof > 0]
    if churn_event_type:
        keep.append(inner.c.type == churn_event_type)
    windows = ("n_win_cut", "n_win_asof")
    frame = _count_frame(connection, days, select(inner).where(or_(*keep)), windows)
    return frame[["person_id", "type", *COUNT_COLUMNS]]


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
