"""The demo's voice of the customer: survey answers, complaints and referrals, so the
pages that read them have something to read.

Without it the demo's analytics show NPS, CSAT and CES as "no answers", no one is ever
an Advocate (a promoter or a converted referral), and every at-risk reason is an overdue
order. Drawn from the customers' own orders, so the
story holds together:

* NPS (0-10) a few days after one of a customer's orders, from a sixth of the customers;
  frequent buyers lean promoter, one-time buyers lean detractor; some leave a comment
  (a detractor's names a complaint word, as verbatim analysis would read it);
* CSAT (1-5) and CES (1-7) after an order from fewer customers;
* a complaint by email or phone from a few of the customers who ordered in the last two
  months (the retention complaint window is 30 days, so some are still fresh);
* ``referral_converted`` on a few frequent buyers, naming the customer they brought
  (someone whose first order came later).

No acquisition spend: an event needs a person or an organization, and spend belongs to
neither, so CAC and ROI stay "no spend recorded" until spend has a home of its own.

Events go through the append path (``timeline.append.append_rows``) like the purchase log.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from tenure.customers.models import Person
from tenure.timeline.append import append_rows
from tenure.timeline.models import Event
from tenure.timeline.pipeline import OUTSIDE
from tenure.workspace.demo import DemoContext

SOURCE = "demo-feedback"
NPS_SHARE = 1 / 6
CSAT_SHARE = 0.08
CES_SHARE = 0.05
COMMENT_SHARE = 0.4
COMPLAINT_SHARE = 0.03  # of the customers who ordered in the last COMPLAINT_DAYS
COMPLAINT_DAYS = 60
REFERRER_SHARE = 0.04  # of the customers with REFERRER_ORDERS orders or more
REFERRER_ORDERS = 4

#: P(detractor, passive, promoter) by number of orders: loyal buyers recommend.
NPS_MIX = {1: (0.45, 0.35, 0.20), 2: (0.30, 0.40, 0.30), 3: (0.20, 0.40, 0.40)}
NPS_MIX_FREQUENT = (0.10, 0.30, 0.60)  # 5 orders or more
DETRACTOR_SCORES = (np.arange(0, 7), np.array([1, 1, 2, 3, 5, 8, 10], dtype=float))
CSAT_P = (0.05, 0.08, 0.12, 0.30, 0.45)  # scores 1..5
CES_P = (0.03, 0.05, 0.08, 0.14, 0.25, 0.25, 0.20)  # scores 1..7, 7 the easiest

COMMENTS = {
    "promoter": (
        "Great selection and fast delivery.",
        "Found rare jazz records I could not get anywhere else.",
        "Friendly help on the phone, easy to order.",
        "Always arrives quickly and well packed.",
    ),
    "passive": (
        "Fine, but prices could be lower.",
        "Good choice of albums; the website is a bit slow at times.",
        "Does the job.",
    ),
    "detractor": (
        "Delivery was late and nobody told me.",
        "The CD case arrived broken.",
        "Ordered the wrong edition and the return was a mess.",
        "Customer service was slow to answer my email.",
    ),
}
CSAT_LOW_COMMENTS = (
    "The parcel was late.",
    "Support was slow to reply.",
    "Disappointed: one disc was scratched.",
)
COMPLAINTS = (
    ("email", "Order arrived with a cracked case"),
    ("email", "Charged twice for one order"),
    ("phone", "Package still not delivered after two weeks"),
    ("email", "Received the wrong album"),
    ("phone", "Refund for a cancelled order has not arrived"),
)


def _orders_by_customer(context: DemoContext) -> dict[int, list[datetime]]:
    """Each customer's order times, oldest first (the demo's orders are all customers')."""
    rows = context.session.execute(
        select(Event.person_id, Event.occurred_at)
        .where(Event.type == "order", Event.person_id.is_not(None))
        .order_by(Event.person_id, Event.occurred_at)
    )
    orders: dict[int, list[datetime]] = defaultdict(list)
    for person_id, at in rows:
        if person_id is not None:
            orders[int(person_id)].append(at if at.tzinfo else at.replace(tzinfo=UTC))
    return orders


def _row(
    person_id: int | None,
    at: datetime,
    kind: str,
    channel: str | None,
    key: str,
    payload: dict[str, Any],
    today: datetime,
    amount_minor: int | None = None,
) -> tuple[Any, ...]:
    currency = "USD" if amount_minor is not None else None
    return (person_id, at, today, kind, channel, SOURCE, key, amount_minor, currency, payload)


def _answer_time(rng: np.random.Generator, order_at: datetime, low: int, high: int) -> datetime:
    days = int(rng.integers(low, high + 1))
    return order_at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=days, hours=int(rng.integers(8, 22)), minutes=int(rng.integers(60))
    )


def _nps_score(rng: np.random.Generator, orders: int) -> tuple[int, str]:
    mix = NPS_MIX_FREQUENT if orders >= 5 else NPS_MIX[min(orders, 3)]
    category = ("detractor", "passive", "promoter")[int(rng.choice(3, p=mix))]
    if category == "promoter":
        return int(rng.integers(9, 11)), category
    if category == "passive":
        return int(rng.integers(7, 9)), category
    scores, weights = DETRACTOR_SCORES
    return int(rng.choice(scores, p=weights / weights.sum())), category


def _surveys(
    rng: np.random.Generator, orders: dict[int, list[datetime]], today: datetime
) -> list[tuple[Any, ...]]:
    rows = []
    for person_id, times in orders.items():
        for survey, share in (("nps", NPS_SHARE), ("csat", CSAT_SHARE), ("ces", CES_SHARE)):
            if rng.random() >= share:
                continue
            after = times[int(rng.integers(len(times)))]
            at = _answer_time(rng, after, 2, 10)
            if at >= today:
                continue
            payload: dict[str, Any] = {"survey": survey}
            if survey == "nps":
                score, category = _nps_score(rng, len(times))
                if rng.random() < COMMENT_SHARE:
                    options = COMMENTS[category]
                    payload["comment"] = options[int(rng.integers(len(options)))]
            elif survey == "csat":
                score = int(rng.choice(5, p=CSAT_P)) + 1
                if score <= 2:
                    payload["comment"] = CSAT_LOW_COMMENTS[
                        int(rng.integers(len(CSAT_LOW_COMMENTS)))
                    ]
            else:
                score = int(rng.choice(7, p=CES_P)) + 1
            payload["score"] = score
            key = f"demo-{survey}-{person_id}"
            rows.append(_row(person_id, at, "survey_answered", "email", key, payload, today))
    return rows


def _complaints(
    rng: np.random.Generator, orders: dict[int, list[datetime]], today: datetime
) -> list[tuple[Any, ...]]:
    since = today - timedelta(days=COMPLAINT_DAYS)
    rows = []
    for person_id, times in orders.items():
        last = times[-1]
        if last < since or rng.random() >= COMPLAINT_SHARE:
            continue
        at = _answer_time(rng, last, 1, 12)
        if at >= today:
            at = today - timedelta(hours=int(rng.integers(2, 48)))
        channel, subject = COMPLAINTS[int(rng.integers(len(COMPLAINTS)))]
        key = f"demo-complaint-{person_id}"
        rows.append(_row(person_id, at, "complaint", channel, key, {"subject": subject}, today))
    return rows


def _referrals(
    context: DemoContext, rng: np.random.Generator, orders: dict[int, list[datetime]]
) -> list[tuple[Any, ...]]:
    """A few frequent buyers each brought one customer whose first order came later."""
    firsts = sorted((times[0], person_id) for person_id, times in orders.items())
    first_times = [at for at, _ in firsts]
    pairs: dict[int, int] = {}  # referrer -> referred
    for person_id, times in orders.items():
        if len(times) < REFERRER_ORDERS or rng.random() >= REFERRER_SHARE:
            continue
        start = bisect_right(first_times, times[0])
        later = [p for _, p in firsts[start : start + 500] if p not in pairs.values()]
        if later:
            pairs[person_id] = later[int(rng.integers(len(later)))]
    names = dict(
        context.session.execute(
            select(Person.id, Person.first_name + " " + Person.last_name).where(
                Person.id.in_(list(pairs.values()))
            )
        ).all()
    )
    rows = []
    for referrer, referred in pairs.items():
        payload = {"referred_person_id": referred, "referred_name": names.get(referred)}
        at = orders[referred][0]
        key = f"demo-referral-{referrer}"
        rows.append(_row(referrer, at, "referral_converted", None, key, payload, context.today))
    return rows


def add_demo_feedback(context: DemoContext) -> None:
    rng = context.rng
    orders = _orders_by_customer(context)
    rows = _surveys(rng, orders, context.today) + _complaints(rng, orders, context.today)
    rows += _referrals(context, rng, orders)
    rows.sort(key=lambda row: row[1])
    append_rows(session=context.session, rows=rows, origin=OUTSIDE)
