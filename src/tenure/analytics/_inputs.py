"""Input checks shared by the models: summary columns and observation weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def summary_columns(summary: pd.DataFrame, names: Sequence[str]) -> list[FloatArray]:
    """Return the named summary columns as float arrays, checking they are usable.

    Raises
    ------
    ValueError
        If a column is missing, holds NaN/inf or negative values.
    """
    missing = [n for n in names if n not in summary.columns]
    if missing:
        raise ValueError(
            f"summary is missing column(s) {missing}; build it with rfm_summary() "
            f"or provide columns {list(names)}"
        )
    out = []
    for name in names:
        values = summary[name].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"summary column {name!r} has missing or infinite values")
        if np.any(values < 0):
            raise ValueError(f"summary column {name!r} has negative values")
        out.append(values)
    return out


def check_recency(frequency: FloatArray, recency: FloatArray, age: FloatArray) -> None:
    """Check ``recency <= T`` and that customers without repeats have recency 0."""
    if np.any(recency > age * (1 + 1e-9) + 1e-12):
        raise ValueError("recency must not exceed T (the customer's age)")
    if np.any((frequency == 0) & (recency != 0)):
        raise ValueError("customers with frequency 0 must have recency 0")


def resolve_weights(summary: pd.DataFrame, weights: ArrayLike | str | None) -> FloatArray | None:
    """Turn ``weights`` (None, a column name or an array) into a float array or None."""
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in summary.columns:
            raise ValueError(f"weights column {weights!r} is not in the summary")
        w = summary[weights].to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(summary),):
        raise ValueError("weights must have one value per summary row")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError("weights must not all be zero")
    return w
