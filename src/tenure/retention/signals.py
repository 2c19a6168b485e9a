"""Early-warning signals per customer, each judged against the customer's own history.

Six signals, each with a strength in [0, 1] and a sentence a person can act on:

- ``engagement_drop``: engagement events in the last ``recent_weeks`` against the
  customer's own previous ``baseline_weeks``, by the conditional binomial test of two
  Poisson rates (flagged at p < ``significance``); strength = the relative drop.
- ``complaint``: complaint events, CSAT answers of 1-2 and negative survey comments in the
  last ``complaint_window_days``; strength 1 - 0.4^n for n incidents.
- ``detractor``: the latest NPS answer in ``feedback_window_days`` is 0-6; strength from
  0.5 (a 6) to 1 (a 0).
- ``overdue``: days since the last purchase beyond ``overdue_factor`` typical intervals;
  strength = P(a customer still buying at that rhythm would have bought by now).
- ``sla_breach``: ``sla_breached`` events in the last ``complaint_window_days``.
- ``p_alive_drop``: BG/NBD P(alive) fell by ``p_alive_drop`` or more since the previous
  score version (:mod:`tenure.retention.models`, ``p_alive_history``).

Counting is done in SQL (GROUP BY person); only survey answers inside the lookback
window are read row by row, because their payloads need reading (score, comment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binom
from sqlalchemy import Connection, case, func, select

from tenure.customers.models import Person
from tenure.db.dialect import Days
from tenure.retention import feedback
from tenure.retention.schemas import RetentionConfig
from tenure.timeline.models import Event

#: A baseline shorter than this (a customer who arrived recently) is no baseline.
MIN_BASELINE_DAYS = 28
#: The rhythm needs this many repeat purchases when no BG/NBD prior is available.
MIN_REPEATS_WITHOUT_PRIOR = 2
DAY = 86_400.0


@dataclass(frozen=True)
class Signal:
    """One warning about one customer: kind, strength in [0, 1], a sentence, the measures."""

    kind: str
    strength: float
    text: str
    facts: dict[str, Any] = field(default_factory=dict)


SignalMap = dict[int, list[Signal]]


def add(signals: SignalMap, person_id: int, signal: Signal) -> None:
    signals.setdefault(int(person_id), []).append(signal)


# -- statistics ---------------------------------------------------------------------------


def drop_p_values(
    recent: np.ndarray, baseline: np.ndarray, recent_days: np.ndarray, baseline_days: np.ndarray
) -> np.ndarray:
    """One-sided p-values that the recent event rate is lower than the baseline rate.

    Conditional binomial test of two Poisson rates (Przyborowski & Wilenski 1940): under
    equal rates, given n = recent + baseline events, the recent count is
    Binomial(n, recent_days / (recent_days + baseline_days)), and the p-value is
    P(X <= recent). Identical to ``scipy.stats.binomtest(recent, n, p0,
    alternative="less").pvalue``, vectorized.
    """
    recent = np.asarray(recent, dtype=float)
    n = recent + np.asarray(baseline, dtype=float)
    p0 = np.asarray(recent_days, dtype=float) / (
        np.asarray(recent_days, dtype=float) + np.asarray(baseline_days, dtype=float)
    )
    return np.asarray(binom.cdf(recent, n, p0), dtype=float)


def typical_intervals_days(
    repeats: np.ndarray, active_days: np.ndarray, prior: tuple[float, float] | None
) -> np.ndarray:
    """Each customer's typical days between purchases while buying (NaN when unknown).

    The purchase rate while active is the customer's own ``repeats / active span``; with
    a fitted BG/NBD the Gamma(r, alpha) prior on rates (weeks) shrinks it towards the
    population's: (r + x) / (alpha + t_x), the Gamma-Poisson posterior mean over the span
    from the first to the last purchase (Fader, Hardie & Lee 2005 use the same conjugacy).
    One repeat then gives a usable, cautious rhythm; many repeats give ~ x / t_x.
    """
    x = np.asarray(repeats, dtype=float)
    weeks = np.asarray(active_days, dtype=float) / 7.0
    if prior is not None:
        r, alpha = prior
        rate = (r + x) / (alpha + weeks)
        usable = x >= 1
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = x / weeks
        usable = (x >= MIN_REPEATS_WITHOUT_PRIOR) & (weeks > 0)
    with np.errstate(divide="ignore"):
        interval = 7.0 / rate
    return np.where(usable & (rate > 0), interval, np.nan)


# -- wording ------------------------------------------------------------------------------


def span_words(days: float) -> str:
    """A duration as people say it: "10 days", "6 weeks", "8 months"."""
    if days < 14:
        n = max(1, round(days))
        return f"{n} day" + ("s" if n != 1 else "")
    if days < 26 * 7:
        return f"{round(days / 7)} weeks"
    return f"{round(days / 30.44)} months"


def _every(days: float) -> str:
    words = span_words(days)
    return "every day" if words == "1 day" else f"every ~{words}"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# -- signals ------------------------------------------------------------------------------


def engagement_signals(
    connection: Connection, as_of: datetime, config: RetentionConfig
) -> SignalMap:
    recent_start = as_of - timedelta(weeks=config.recent_weeks)
    baseline_start = recent_start - timedelta(weeks=config.baseline_weeks)
    in_recent = Event.occurred_at > recent_start
    baseline_count = func.sum(case((in_recent, 0), else_=1))
    query = (
        select(
            Event.person_id,
            func.sum(case((in_recent, 1), else_=0)).label("recent"),
            baseline_count.label("baseline"),
            func.min(Event.occurred_at).label("first_at"),
            func.min(Person.created_at).label("created_at"),
        )
        .join(Person, Person.id == Event.person_id)
        .where(
            Event.type.in_(config.engagement_event_types),
            Event.occurred_at >= baseline_start,
            Event.occurred_at <= as_of,
        )
        .group_by(Event.person_id)
        .having(baseline_count >= config.min_baseline_events)
    )
    rows = pd.DataFrame(
        connection.execute(query).all(),
        columns=["person_id", "recent", "baseline", "first_at", "created_at"],
    )
    signals: SignalMap = {}
    if rows.empty:
        return signals
    # The baseline starts when the customer could first engage: an imported customer's
    # events may predate their record, so the earlier of the two.
    starts = [
        max(baseline_start, min(first, created))
        for first, created in zip(rows["first_at"], rows["created_at"], strict=True)
    ]
    baseline_days = np.array([(recent_start - s).total_seconds() / DAY for s in starts])
    recent_days = (as_of - recent_start).total_seconds() / DAY
    recent = rows["recent"].to_numpy(dtype=float)
    baseline = rows["baseline"].to_numpy(dtype=float)
    p = drop_p_values(recent, baseline, np.full(len(rows), recent_days), baseline_days)
    for i, person_id in enumerate(rows["person_id"]):
        if baseline_days[i] < MIN_BASELINE_DAYS or p[i] >= config.significance:
            continue
        before = baseline[i] / baseline_days[i] * 7
        now = recent[i] / recent_days * 7
        text = (
            f"engagement fell to {now:.1f} a week in the last {config.recent_weeks} weeks "
            f"from {before:.1f} a week before ({_p_text(p[i])})"
        )
        facts = {
            "recent_events": int(recent[i]),
            "baseline_events": int(baseline[i]),
            "recent_per_week": round(now, 3),
            "baseline_per_week": round(before, 3),
            "p_value": float(p[i]),
        }
        add(signals, person_id, Signal("engagement_drop", 1 - now / before, text, facts))
    return signals


def incident_signals(connection: Connection, as_of: datetime, config: RetentionConfig) -> SignalMap:
    """Complaints and negative feedback (one ``complaint`` signal), SLA breaches, NPS."""
    since = as_of - timedelta(days=config.complaint_window_days)
    counts = connection.execute(
        select(Event.person_id, Event.type, func.count(), func.max(Event.occurred_at))
        .where(
            Event.type.in_(("complaint", "sla_breached")),
            Event.occurred_at > since,
            Event.occurred_at <= as_of,
        )
        .group_by(Event.person_id, Event.type)
    ).all()
    answers_since = as_of - timedelta(
        days=max(config.complaint_window_days, config.feedback_window_days)
    )
    answers = connection.execute(
        select(Event.person_id, Event.occurred_at, Event.payload)
        .where(
            Event.type == "survey_answered",
            Event.occurred_at > answers_since,
            Event.occurred_at <= as_of,
        )
        .order_by(Event.person_id, Event.occurred_at, Event.id)
    ).all()

    incidents: dict[int, list[str]] = {}
    incident_counts: dict[int, int] = {}
    breaches: SignalMap = {}
    window = config.complaint_window_days
    for person_id, kind, n, last in counts:
        if person_id is None:  # logged on an organization itself
            continue
        if kind == "complaint":
            incidents.setdefault(person_id, []).append(
                f"{_plural(n, 'complaint')} in {window} days (last on {last:%Y-%m-%d})"
            )
            incident_counts[person_id] = incident_counts.get(person_id, 0) + n
        else:
            text = f"{_plural(n, 'SLA breach')} in {window} days (last on {last:%Y-%m-%d})"
            text = text.replace("breachs", "breaches")
            add(breaches, person_id, Signal("sla_breach", 1 - 0.5**n, text, {"breaches": n}))

    latest_nps: dict[int, tuple[datetime, int]] = {}
    for person_id, at, payload in answers:
        answer = feedback.read_answer(payload)
        recent_enough = at > as_of - timedelta(days=config.feedback_window_days)
        if answer.survey == "nps" and answer.score is not None and recent_enough:
            latest_nps[person_id] = (at, answer.score)  # rows are in time order
        if at <= since:
            continue
        if answer.survey == "csat" and answer.score is not None and answer.score <= 2:
            incidents.setdefault(person_id, []).append(f"CSAT {answer.score} on {at:%Y-%m-%d}")
            incident_counts[person_id] = incident_counts.get(person_id, 0) + 1
        elif answer.negative_comment:
            quote = feedback.excerpt(answer.comment or "")
            incidents.setdefault(person_id, []).append(
                f"negative comment on {at:%Y-%m-%d}: “{quote}”"
            )
            incident_counts[person_id] = incident_counts.get(person_id, 0) + 1

    signals: SignalMap = breaches
    for person_id, parts in incidents.items():
        n = incident_counts[person_id]
        facts = {"incidents": n}
        add(signals, person_id, Signal("complaint", 1 - 0.4**n, "; ".join(parts), facts))
    for person_id, (at, score) in latest_nps.items():
        if score <= 6:
            strength = 0.5 + 0.5 * (6 - score) / 6
            measured: dict[str, Any] = {"nps": score, "answered_at": at.isoformat()}
            add(
                signals,
                person_id,
                Signal("detractor", strength, f"NPS {score} on {at:%Y-%m-%d}", measured),
            )
    return signals


def overdue_signals(
    connection: Connection,
    as_of: datetime,
    config: RetentionConfig,
    prior: tuple[float, float] | None,
) -> SignalMap:
    """Purchases overdue against each customer's own rhythm (see typical_intervals_days).

    Overdue: the silence since the last purchase day is at least ``overdue_factor``
    typical intervals *and* longer than any gap the customer had before, so a bursty
    buyer (three orders in a week, then a month off, again and again) is judged by their
    own pauses rather than by a Poisson rhythm they never had.
    """
    dialect = connection.dialect.name
    day = Days(dialect).of(Event.occurred_at)
    purchase_days = (
        select(Event.person_id.label("person_id"), day.label("day"))
        .where(Event.type == "order", Event.occurred_at <= as_of)
        .group_by(Event.person_id, day)
        .subquery()
    )
    previous = func.lag(purchase_days.c.day).over(
        partition_by=purchase_days.c.person_id, order_by=purchase_days.c.day
    )
    gaps = select(
        purchase_days.c.person_id,
        purchase_days.c.day,
        Days(dialect).between(purchase_days.c.day, previous).label("gap"),
    ).subquery()
    count = func.count()
    rows = pd.DataFrame(
        connection.execute(
            select(
                gaps.c.person_id,
                count,
                func.min(gaps.c.day),
                func.max(gaps.c.day),
                func.max(gaps.c.gap),
            )
            .group_by(gaps.c.person_id)
            .having(count >= 2)
        ).all(),
        columns=["person_id", "days", "first", "last", "longest"],
    )
    signals: SignalMap = {}
    if rows.empty:
        return signals
    first = pd.to_datetime(rows["first"].astype(str))
    last = pd.to_datetime(rows["last"].astype(str))
    today = pd.Timestamp(as_of.date())
    active_days = ((last - first).dt.days).to_numpy(dtype=float)
    since_last = ((today - last).dt.days).to_numpy(dtype=float)
    longest = rows["longest"].to_numpy(dtype=float)
    repeats = rows["days"].to_numpy(dtype=float) - 1
    person_ids = rows["person_id"].to_numpy(dtype=np.int64)
    interval = typical_intervals_days(repeats, active_days, prior)
    with np.errstate(invalid="ignore"):
        flagged = (since_last >= config.overdue_factor * interval) & (since_last > longest)
    for i in np.flatnonzero(flagged):
        m, gap = float(interval[i]), float(since_last[i])
        text = f"orders {_every(m)}, none for {span_words(gap)}"
        if repeats[i] >= 2:
            text += f" (longest gap before: {span_words(longest[i])})"
        facts = {
            "typical_interval_days": round(m, 1),
            "days_since_last_order": int(gap),
            "longest_gap_days": int(longest[i]),
            "repeat_purchases": int(repeats[i]),
        }
        # P(at least one purchase in `gap` days) for a Poisson buyer at rate 1/m.
        strength = 1 - float(np.exp(-gap / m))
        add(signals, int(person_ids[i]), Signal("overdue", strength, text, facts))
    return signals


def p_alive_drop_signals(
    rows: list[tuple[int, float, float]], since: datetime | None, config: RetentionConfig
) -> SignalMap:
    """Rows of (person_id, previous P(alive), current P(alive)), already filtered in SQL."""
    signals: SignalMap = {}
    when = f" since the scores of {since:%Y-%m-%d}" if since else ""
    for person_id, before, now in rows:
        drop = before - now
        if drop < config.p_alive_drop:
            continue
        text = f"P(alive) fell from {before:.0%} to {now:.0%}{when}"
        facts = {"p_alive_before": round(before, 4), "p_alive_now": round(now, 4)}
        add(signals, person_id, Signal("p_alive_drop", min(1.0, drop / 0.5), text, facts))
    return signals


def merge(*maps: SignalMap) -> SignalMap:
    out: SignalMap = {}
    for signals in maps:
        for person_id, found in signals.items():
            out.setdefault(person_id, []).extend(found)
    return out
