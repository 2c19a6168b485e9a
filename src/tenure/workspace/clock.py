"""The workspace clock: the one "now" for business dates.

Everything that dates or judges customer activity asks here: scores and their "as of",
stage evaluation and overrides, risk, segment windows ("last 90 days"), notes, tasks,
consents and people created by hand. So dates on one page never disagree.

A normal workspace's clock is the real time. A workspace that replays history (the
demo: the CDNOW log ends on 1998-06-30) has a fixed ``now`` stored on its row: the
midnight after its newest purchase. Judged from today everyone in such a log would be
lapsed, and a note written today would be dated 28 years after the orders beside it.
The demo is a snapshot of one day: whatever a user does in it happens at that instant.

Timestamps about the system rather than the customer (audit log, ``received_at`` of
events, import and refresh run times, ``updated_at``) keep the real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.workspace.queries import ensure_workspace, get_workspace


def now(session: Session) -> datetime:
    """The workspace's current time: its fixed "now" if it has one, else the real time."""
    fixed = get_workspace(session).fixed_now
    return fixed.astimezone(UTC) if fixed is not None else utcnow()


def is_fixed(session: Session) -> bool:
    """Whether the workspace replays history at a fixed time (the demo)."""
    return get_workspace(session).fixed_now is not None


def day_after(moment: datetime) -> datetime:
    """Midnight UTC after ``moment``: the fixed "now" of a workspace replaying a log."""
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def fix_now(session: Session, moment: datetime) -> None:
    """Freeze the workspace's clock at ``moment`` (the demo builder does)."""
    if moment.tzinfo is None:
        raise ValueError("the workspace clock takes a timezone-aware time")
    ensure_workspace(session).fixed_now = moment
    session.flush()
