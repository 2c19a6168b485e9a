"""Next best action: which items follow which, after what lag, and what to offer whom, when.

Mining (categories, or SKUs where support allows). For each customer and item, the day
of the first purchase of the item. A rule A -> B counts the customers whose first purchase
of A (the *anchor*) can be followed for the whole window (anchor day + window <= as of)
and who had not bought B by that day; of them, ``support_count`` bought B 1 to
``window_days`` days later. Then

- confidence = support_count / anchors ("buyers of A buy B within 180 days in 27% of
  cases"),
- support = support_count / buyers (customers with at least one followable anchor),
- lift = confidence / base rate of B, where the base rate is the same share pooled over
  every other anchor item: how often B follows the first purchase of *any* other item.
  Lift > 1 says that A specifically raises the chance of B; the pooled base compares
  customers at the same depth of their history, which a plain "share of buyers of B"
  would not (customers with more anchors are the more active ones),
- lags: quartiles of the days from A to B among the support_count customers.

The pair counting is one self-join of the first-purchase table in SQL, grouped by
(A, B, lag) with lags clamped to 0 (B bought on or before A's day) and window + 1 (later
than the window), so the database returns at most items^2 x (window + 2) rows; the
rates and lag quartiles are computed on that aggregated frame in pandas.

Recommending. For a customer, every rule whose antecedent they bought and whose
consequent they have not; per consequent the best rule (by confidence or lift), lift at
least ``min_lift``; the top ``k``, each timed at the first purchase of A + the median lag
("now" when that day has passed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import CTE

from tenure.db.dialect import Days
from tenure.timeline.models import Event, EventItem

Level = Literal["category", "sku"]
RankBy = Literal["confidence", "lift"]
DEFAULT_WINDOW_DAYS = 180
DEFAULT_MIN_SUPPORT = 20
EPOCH = date(1970, 1, 1)
RULE_COLUMNS = [
    "antecedent",
    "consequent",
    "anchors",
    "support_count",
    "support",
    "confidence",
    "base_rate",
    "lift",
    "median_lag_days",
    "lag_p25_days",
    "lag_p75_days",
]


def to_day(value: datetime | date) -> int:
    """Days since 1970-01-01 (UTC calendar day of a datetime)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return (value - EPOCH).days


def from_day(number: float) -> date:
    return EPOCH + timedelta(days=int(number))


def _item_column(level: Level) -> InstrumentedAttribute[str | None]:
    return EventItem.category if level == "category" else EventItem.sku


def first_purchases(
    connection: Connection, *, as_of: datetime, level: Level, min_buyers: int = 1
) -> CTE:
    """A CTE of (person_id, item, day): each customer's first purchase day of each item.

    Items bought by fewer than ``min_buyers`` customers are left out (they cannot reach
    the minimum support of a rule, and on SKUs they are most of the rows).
    """
    dialect = connection.dialect.name
    item = _item_column(level)
    firsts = (
        select(
            Event.person_id.label("person_id"),
            item.label("item"),
            func.min(Days(dialect).of(Event.occurred_at)).label("day"),
        )
        .join(EventItem, EventItem.event_id == Event.id)
        .where(Event.type == "order", Event.occurred_at <= as_of, item.isnot(None))
        .group_by(Event.person_id, item)
    ).cte("firsts")
    if min_buyers <= 1:
        return firsts
    popular = select(firsts.c.item).group_by(firsts.c.item).having(func.count() >= min_buyers)
    return (
        select(firsts.c.person_id, firsts.c.item, firsts.c.day)
        .where(firsts.c.item.in_(popular))
        .cte("kept")
    )


def lag_counts(
    connection: Connection, *, as_of: datetime, window_days: int, level: Level, min_support: int
) -> tuple[pd.DataFrame, pd.Series, int]:
    """The aggregated frame rules are computed from.

    Returns (lags, anchors, buyers): ``lags`` has columns antecedent, consequent, lag,
    persons, with lag 0 for "consequent bought on or before the anchor day" and
    ``window_days + 1`` for "after the window"; ``anchors`` counts followable first
    purchases per item; ``buyers`` counts customers with at least one.
    """
    dialect = connection.dialect.name
    firsts = first_purchases(connection, as_of=as_of, level=level, min_buyers=min_support)
    last_anchor_day = Days(dialect).value(
        (as_of - timedelta(days=window_days)).astimezone(UTC).date()
    )
    a, b = firsts.alias("a"), firsts.alias("b")
    followable = a.c.day <= last_anchor_day
    anchor_rows = connection.execute(
        select(a.c.item, func.count()).where(followable).group_by(a.c.item)
    ).all()
    anchors = pd.Series({item: int(n) for item, n in anchor_rows}, dtype="int64")
    buyers = (
        connection.scalar(select(func.count(func.distinct(a.c.person_id))).where(followable)) or 0
    )
    lag = Days(dialect).between(b.c.day, a.c.day)
    clamped = case((lag <= 0, 0), (lag > window_days, window_days + 1), else_=lag).label("lag")
    # "Followable" is a grouping column, not a WHERE: with the WHERE, SQLite's planner
    # expects few anchors and scans all of b for each one instead of indexing b by person
    # (measured on the demo: over 2 minutes against 3 s).
    flag = case((followable, 1), else_=0).label("followable")
    rows = connection.execute(
        select(a.c.item, b.c.item, clamped, flag, func.count())
        .join(b, and_(b.c.person_id == a.c.person_id, b.c.item != a.c.item))
        .group_by(a.c.item, b.c.item, clamped, flag)
    ).all()
    lags = pd.DataFrame(rows, columns=["antecedent", "consequent", "lag", "followable", "persons"])
    lags = lags[lags["followable"] == 1].drop(columns="followable")
    lags = lags.astype({"lag": "int64", "persons": "int64"}).reset_index(drop=True)
    return lags, anchors, int(buyers)


def rules_from_counts(
    lags: pd.DataFrame, anchors: pd.Series, buyers: int, *, window_days: int, min_support: int
) -> pd.DataFrame:
    """Rules (:data:`RULE_COLUMNS`) from :func:`lag_counts`'s frame; pure, for tests."""
    if lags.empty or buyers == 0:
        return pd.DataFrame(columns=RULE_COLUMNS)
    pair = ["antecedent", "consequent"]
    before = lags[lags["lag"] == 0].groupby(pair)["persons"].sum()
    inside = lags[(lags["lag"] >= 1) & (lags["lag"] <= window_days)]
    hits = inside.groupby(pair)["persons"].sum()
    items = anchors.index.union(pd.Index(lags["consequent"].unique()))
    anchors = anchors.reindex(items, fill_value=0)
    # Base rate of B, pooled over every anchor item A != B: hits over followable anchors
    # that had not bought B yet. Pairs without co-buyers add anchors but no hits, so the
    # sums come from the totals rather than from an items x items product.
    pooled_hits = hits.groupby(level="consequent").sum().reindex(items, fill_value=0)
    pooled_before = before.groupby(level="consequent").sum().reindex(items, fill_value=0)
    pooled_anchors = anchors.sum() - anchors - pooled_before
    base = (pooled_hits / pooled_anchors).rename("base_rate")

    frame = hits[hits >= min_support].rename("support_count").to_frame()
    if frame.empty:
        return pd.DataFrame(columns=RULE_COLUMNS)
    antecedents = frame.index.get_level_values("antecedent")
    frame["anchors"] = (
        anchors.reindex(antecedents).to_numpy()
        - before.reindex(frame.index, fill_value=0).to_numpy()
    )
    frame = frame.join(base, on="consequent")
    frame["support"] = frame["support_count"] / buyers
    frame["confidence"] = frame["support_count"] / frame["anchors"]
    frame["lift"] = frame["confidence"] / frame["base_rate"]
    # Only the pairs kept as rules (a few hundred at most) are expanded to their lags.
    kept = inside.set_index(pair).loc[frame.index].reset_index()
    quartiles = pd.DataFrame.from_dict(
        {
            key: np.percentile(
                np.repeat(g["lag"].to_numpy(), g["persons"].to_numpy()), [25, 50, 75]
            )
            for key, g in kept.groupby(pair)
        },
        orient="index",
        columns=["lag_p25_days", "median_lag_days", "lag_p75_days"],
    )
    quartiles.index = pd.MultiIndex.from_tuples(quartiles.index, names=pair)
    frame = frame.join(quartiles).reset_index()
    frame = frame.sort_values(["antecedent", "confidence"], ascending=[True, False])
    return frame[RULE_COLUMNS].reset_index(drop=True)


def mine(
    connection: Connection,
    *,
    as_of: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_support: int = DEFAULT_MIN_SUPPORT,
    level: Level = "category",
) -> tuple[pd.DataFrame, int]:
    """Rules of one level as of ``as_of`` (only purchases up to then), and the buyers."""
    lags, anchors, buyers = lag_counts(
        connection, as_of=as_of, window_days=window_days, level=level, min_support=min_support
    )
    rules = rules_from_counts(
        lags, anchors, buyers, window_days=window_days, min_support=min_support
    )
    return rules, buyers


def item_buyers(
    connection: Connection, *, as_of: datetime, level: Level, top: int = 50
) -> list[tuple[str, int]]:
    """The ``top`` items by customers who bought them up to ``as_of``, most bought first."""
    item = _item_column(level)
    buyers = func.count(func.distinct(Event.person_id))
    rows = connection.execute(
        select(item, buyers)
        .join(EventItem, EventItem.event_id == Event.id)
        .where(Event.type == "order", Event.occurred_at <= as_of, item.isnot(None))
        .group_by(item)
        .order_by(buyers.desc(), item)
        .limit(top)
    ).all()
    return [(str(i), int(n)) for i, n in rows]


def purchase_history(
    connection: Connection,
    *,
    as_of: datetime,
    level: Level = "category",
    person_ids: list[int] | None = None,
) -> pd.DataFrame:
    """(person_id, item, day): first purchase day number of each item up to ``as_of``."""
    dialect = connection.dialect.name
    item = _item_column(level)
    first_day = func.min(Days(dialect).of(Event.occurred_at))
    query = (
        select(Event.person_id, item, Days(dialect).since_epoch(first_day))
        .join(EventItem, EventItem.event_id == Event.id)
        .where(Event.type == "order", Event.occurred_at <= as_of, item.isnot(None))
        .group_by(Event.person_id, item)
    )
    if person_ids is not None:
        query = query.where(Event.person_id.in_(person_ids))
    frame = pd.DataFrame(connection.execute(query).all(), columns=["person_id", "item", "day"])
    return frame.astype({"person_id": "int64", "day": "int64"})


def recommend(
    history: pd.DataFrame,
    rules: pd.DataFrame,
    *,
    as_of_day: int,
    k: int = 3,
    rank_by: RankBy = "confidence",
    min_lift: float = 0.0,
) -> pd.DataFrame:
    """Top-``k`` offers per customer: rule columns plus person_id, rank, anchor_day, offer_day.

    Ranked by confidence by default, the chance the offer is taken up; lift breaks ties
    and explains. Measured on the demo split (bench/nba.py): a floor of lift >= 1 cost
    19% of the hit rate and ranking by lift 60% at @1, because the demo's lifts are noise
    around 1; ``min_lift`` is there for workspaces with real sequences.
    """
    columns = ["person_id", "rank", "anchor_day", "offer_day", *RULE_COLUMNS]
    usable = rules[rules["lift"] >= min_lift]
    if history.empty or usable.empty:
        return pd.DataFrame(columns=columns)
    joined = history.rename(columns={"item": "antecedent", "day": "anchor_day"}).merge(
        usable, on="antecedent"
    )
    owned = history.rename(columns={"item": "consequent"})[["person_id", "consequent"]]
    joined = joined.merge(owned.assign(owned=True), on=["person_id", "consequent"], how="left")
    joined = joined[joined["owned"].isna()].drop(columns="owned")
    other = "lift" if rank_by == "confidence" else "confidence"
    joined = joined.sort_values(
        ["person_id", rank_by, other, "consequent"], ascending=[True, False, False, True]
    )
    best = joined.drop_duplicates(["person_id", "consequent"])
    best = best.groupby("person_id", sort=False).head(k).copy()
    best["rank"] = best.groupby("person_id", sort=False).cumcount() + 1
    offer = best["anchor_day"] + np.round(best["median_lag_days"]).astype("int64")
    best["offer_day"] = np.maximum(offer, as_of_day)
    return best[columns].reset_index(drop=True)


def popular(history: pd.DataFrame, *, k: int = 3) -> pd.DataFrame:
    """The popularity baseline: the ``k`` items with most buyers that each customer lacks."""
    ranking = history.groupby("item")["person_id"].nunique().sort_values(ascending=False)
    order = {item: i for i, item in enumerate(ranking.index)}
    owned = history.groupby("person_id")["item"].agg(set)
    rows: list[tuple[Any, int, Any]] = []
    for person_id, items in owned.items():
        picks = [item for item in ranking.index if item not in items][:k]
        rows.extend((person_id, rank, item) for rank, item in enumerate(picks, 1))
    frame = pd.DataFrame(rows, columns=["person_id", "rank", "item"])
    frame.attrs["order"] = order
    return frame


def rule_sentence(rule: Mapping[str, Any], window_days: int) -> str:
    """E.g. "buyers of Jazz buy Folk within 180 days in 27% of cases (lift 1.40, 310
    customers), median lag 84 days"."""
    confidence, lift = float(rule["confidence"]), float(rule["lift"])
    customers, lag = int(rule["support_count"]), float(rule["median_lag_days"])
    return (
        f"buyers of {rule['antecedent']} buy {rule['consequent']} within {window_days} days "
        f"in {confidence:.0%} of cases (lift {lift:.2f}, {customers} customers), "
        f"median lag {lag:.0f} days"
    )
