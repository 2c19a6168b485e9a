"""RFM quintile scores and the documented score-to-segment grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.scores.segments import SEGMENTS, quintile_scores, rfm_segments, segment_for


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "Champions"),
        (4, 4, 3, "Champions"),  # FM = round(3.5) = 4
        (3, 5, 4, "Loyal"),
        (5, 3, 2, "Potential loyalist"),
        (5, 1, 1, "New"),
        (4, 1, 1, "Promising"),
        (4, 1, 2, "Potential loyalist"),  # FM = round(1.5) = 2: halves round up
        (3, 2, 3, "Need attention"),
        (3, 1, 1, "About to sleep"),
        (2, 3, 4, "At risk"),
        (1, 5, 5, "Can't lose"),
        (2, 1, 1, "Hibernating"),
        (1, 1, 1, "Lost"),
    ],
)
def test_segment_grid(r, f, m, segment):
    assert segment_for(r, f, m) == segment


def test_every_segment_is_reachable_and_every_cell_has_one():
    seen = {segment_for(r, f, f) for r in range(1, 6) for f in range(1, 6)}
    assert seen == set(SEGMENTS)
    with pytest.raises(ValueError, match="r score"):
        segment_for(0, 3, 3)


def test_quintiles_put_ties_in_the_lowest_bin():
    # 60% one-time buyers share the lowest score instead of a middle one.
    purchases = np.array([1] * 60 + list(range(2, 42)))
    scores = quintile_scores(purchases, higher_is_better=True)
    assert set(scores[:60]) == {1}
    assert scores.max() == 5
    recency = np.arange(100)
    r = quintile_scores(recency, higher_is_better=False)
    assert r[0] == 5 and r[-1] == 1
    assert np.bincount(r)[1:].tolist() == [20, 20, 20, 20, 20]


def test_rfm_segments_score_a_summary():
    summary = pd.DataFrame(
        {
            "recency_days": [1, 400, 5, 300, 20],
            "purchase_days": [10, 1, 1, 8, 3],
            "revenue": [100_000, 400, 500, 90_000, 9_000],
        },
        index=pd.Index([11, 12, 13, 14, 15], name="person_id"),
    )
    out = rfm_segments(summary)
    assert out.loc[11, "rfm_segment"] == "Champions"
    assert out.loc[12, "rfm_segment"] == "Lost"
    assert out.loc[14, "rfm_segment"] == "Can't lose"
    assert all(
        out.loc[i, "rfm_segment"]
        == segment_for(out.loc[i, "r_score"], out.loc[i, "f_score"], out.loc[i, "m_score"])
        for i in out.index
    )
