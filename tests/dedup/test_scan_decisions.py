"""The scan keeps the matcher's explanation true when it decides otherwise than the matcher."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.dedup.merge import undo_merge
from tenure.dedup.models import Merge
from tenure.dedup.scan import scan_duplicates
from tests.dedup.test_dedup_scan import write_base


def test_a_pair_merged_and_undone_is_queued_with_the_reason(session_factory, session: Session):
    write_base(session_factory, 300)
    first = scan_duplicates(session_factory=session_factory, actor_id=None)
    assert first.merged > 0
    merge = session.scalars(select(Merge).order_by(Merge.id)).first()
    assert merge is not None
    undo_merge(session=session, merge_id=merge.id, actor_id=None)
    session.commit()

    again = scan_duplicates(session_factory=session_factory, actor_id=None, dry_run=True)

    low, high = sorted((merge.survivor_id, merge.loser_id))
    row = again.pairs[(again.pairs["left_id"] == low) & (again.pairs["right_id"] == high)]
    assert len(row) == 1
    assert row.iloc[0]["decision"] == "review"
    words = row.iloc[0]["evidence"]["decision"]["level"]
    assert words == (
        "review, not merged automatically: a person has seen this pair before (or undid its merge)"
    )
    # Pairs the scan leaves as the matcher decided keep the matcher's words.
    auto = again.pairs[again.pairs["decision"] == "auto"]
    assert all(e["decision"]["level"].startswith("merge automatically") for e in auto["evidence"])
