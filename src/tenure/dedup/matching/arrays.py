"""Sort-based distinct values of integer arrays.

numpy 2.4's ``np.unique`` without ``return_*`` arguments switched to a hash table that is
pathologically slow on our encoded pair keys (left * n + right): 10 s for 5.5M keys,
against 0.1 s for a sort and a neighbour comparison. These helpers always sort.
"""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def distinct_with_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for every input, the position of its value in them."""
    order = np.argsort(values)
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.empty(0, bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def distinct_with_first_index_and_counts(
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct values, the index of one occurrence of each, and their counts."""
    order = np.argsort(values)
    ordered = values[order]
    if len(ordered) == 0:
        empty = np.empty(0, dtype=np.int64)
        return ordered, empty, empty
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, len(ordered)])
    return ordered[starts], order[starts], counts
