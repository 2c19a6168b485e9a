"""Built-in segments: the eleven RFM segments and the two value tiers.

The scores refresh stores each customer's ``rfm_segment`` (``tenure.scores.segments``
describes the R x FM grid) and predicted CLV in ``person_scores``; the built-ins are
ordinary dynamic segments over those fields, so that they have members pages, exports,
size over time and entry/exit events like any other segment. They are created by the
segments migration and by :func:`ensure_builtin_segments` (for built-ins added later),
and cannot be edited or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.db.session import first_use_write
from tenure.db.types import utcnow
from tenure.scores.segments import SEGMENTS
from tenure.segments.fields import PREMIUM_PERCENT
from tenure.segments.models import Segment, SegmentKind


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    filter: str
    description: str


RFM_DESCRIPTIONS = {
    "Champions": "Bought recently, buy often and spend the most (R 4-5, FM 4-5).",
    "Loyal": "Buy often and spend well, a little less recently (R 3, FM 4-5).",
    "Potential loyalist": "Recent customers with average frequency and spend (R 4-5, FM 2-3).",
    "New": "Bought very recently for the first time or rarely (R 5, FM 1).",
    "Promising": "Recent shoppers who have not spent much yet (R 4, FM 1).",
    "Need attention": "Average recency, frequency and spend (R 3, FM 2-3).",
    "About to sleep": "Below-average recency and value; losing them soon (R 3 FM 1, R 2 FM 2).",
    "At risk": "Spent and bought often, but long ago (R 1-2, FM 3-4).",
    "Can't lose": "Made big and frequent purchases, but not for a long time (R 1-2, FM 5).",
    "Hibernating": "Last purchase long ago, low frequency and spend (R 2 FM 1, R 1 FM 2).",
    "Lost": "Lowest recency, frequency and spend (R 1, FM 1).",
}


def _key(name: str) -> str:
    return "rfm." + name.lower().replace("'", "").replace(" ", "_")


BUILTINS: tuple[Builtin, ...] = (
    *(
        Builtin(_key(name), name, f'rfm_segment = "{name}"', RFM_DESCRIPTIONS[name])
        for name in SEGMENTS
    ),
    Builtin(
        "tier.premium",
        "Premium customers",
        'value_tier = "premium"',
        f"The top {PREMIUM_PERCENT}% of customers by predicted 12-month CLV.",
    ),
    Builtin(
        "tier.occasional",
        "Occasional customers",
        'value_tier = "occasional"',
        f"Customers outside the top {PREMIUM_PERCENT}% by predicted 12-month CLV.",
    ),
)


def ensure_builtin_segments(session: Session) -> list[Segment]:
    """Create the built-ins this database lacks (by key); return the ones created.

    Two processes may do this at once (two web workers serving the first segment list):
    the loser's insert breaks the unique key, its savepoint rolls back, and it creates
    nothing. On SQLite a reader (a GET) creates them under the write lock and commits
    them at once (``db.session.first_use_write``).
    """
    if not _missing(session):
        return []
    with first_use_write(session):
        # Again: another request may have made them while this one waited for the lock.
        return _create(session, _missing(session))


def _missing(session: Session) -> list[Builtin]:
    existing = set(
        session.scalars(select(Segment.builtin_key).where(Segment.builtin_key.is_not(None)))
    )
    return [builtin for builtin in BUILTINS if builtin.key not in existing]


def _create(session: Session, missing: list[Builtin]) -> list[Segment]:
    if not missing:
        return []
    taken = set(session.scalars(select(Segment.name)))
    now = utcnow()
    created = [
        Segment(
            # A user's segment may already hold the name; the built-in yields.
            name=builtin.name if builtin.name not in taken else f"{builtin.name} (built-in)",
            description=builtin.description,
            kind=SegmentKind.dynamic.value,
            filter=builtin.filter,
            builtin_key=builtin.key,
            member_count=0,
            created_at=now,
            updated_at=now,
        )
        for builtin in missing
    ]
    try:
        with session.begin_nested():
            session.add_all(created)
    except IntegrityError:
        return []
    return created
