"""RFM scores (1-5 quintiles) and the RFM segment of each customer.

Scores
------
Each of R, F and M is the customer's quintile among all customers, 5 the best:

* R ranks recency, the days since the last purchase (fewer is better);
* F ranks the number of purchase days (same-day orders merged);
* M ranks the mean spend per purchase day (revenue / purchase days).

``score = 1 + floor(5 * (rank - 1) / n)`` with ``rank`` the lowest rank of the customer's
tie group, so tied customers share a score and a large tie at the bottom (one-time
buyers, typically most customers) gets 1 rather than a middle score.

Segments
--------
The segment reads R against ``FM = round((F + M) / 2)`` (halves round up), after the
widely used 11-segment RFM grid (e.g. Putler's "RFM analysis for successful customer
segmentation"); every one of the 25 cells has exactly one segment:

======  ==============  ==================  ==================  =========  ==========
R \\ FM  1               2                   3                   4          5
======  ==============  ==================  ==================  =========  ==========
5       New             Potential loyalist  Potential loyalist  Champions  Champions
4       Promising       Potential loyalist  Potential loyalist  Champions  Champions
3       About to sleep  Need attention      Need attention      Loyal      Loyal
2       Hibernating     About to sleep      At risk             At risk    Can't lose
1       Lost            Hibernating         At risk             Can't lose Can't lose
======  ==============  ==================  ==================  =========  ==========
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

SEGMENTS = (
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose",
    "Hibernating",
    "Lost",
)

# SEGMENT_GRID[r - 1][fm - 1]: the table of the module docstring, R = 1 first.
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    ("Lost", "Hibernating", "At risk", "Can't lose", "Can't lose"),
    ("Hibernating", "About to sleep", "At risk", "At risk", "Can't lose"),
    ("About to sleep", "Need attention", "Need attention", "Loyal", "Loyal"),
    ("Promising", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
    ("New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"),
)


def quintile_scores(
    values: pd.Series | NDArray[np.float64], *, higher_is_better: bool
) -> NDArray[np.int64]:
    """1-5 quintile scores, ties sharing the lowest score of their group."""
    series = pd.Series(np.asarray(values, dtype=float))
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    ranks = (series if higher_is_better else -series).rank(method="min").to_numpy()
    scores = 1 + np.floor(5 * (ranks - 1) / len(series)).astype(np.int64)
    return np.clip(scores, 1, 5)


def segment_for(r: int, f: int, m: int) -> str:
    """The RFM segment of one customer's scores (see the module docstring)."""
    for name, value in (("r", r), ("f", f), ("m", m)):
        if not 1 <= value <= 5:
            raise ValueError(f"{name} score must be from 1 to 5, got {value}")
    fm = (f + m + 1) // 2
    return SEGMENT_GRID[r - 1][fm - 1]


def rfm_segments(summary: pd.DataFrame) -> pd.DataFrame:
    """Scores and segment for every customer of an RFM summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``recency_days``, ``purchase_days`` and ``revenue`` per customer.

    Returns
    -------
    pandas.DataFrame
        ``r_score``, ``f_score``, ``m_score`` and ``rfm_segment``, same index.
    """
    r = quintile_scores(summary["recency_days"], higher_is_better=False)
    f = quintile_scores(summary["purchase_days"], higher_is_better=True)
    spend = summary["revenue"].to_numpy(dtype=float) / summary["purchase_days"].to_numpy()
    m = quintile_scores(spend, higher_is_better=True)
    grid = np.array(SEGMENT_GRID, dtype=object)
    segment = grid[r - 1, (f + m + 1) // 2 - 1] if len(r) else np.array([], dtype=object)
    return pd.DataFrame(
        {"r_score": r, "f_score": f, "m_score": m, "rfm_segment": segment}, index=summary.index
    )
