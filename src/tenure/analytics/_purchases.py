"""What the BG/NBD and Pareto/NBD predictions share.

Both write a customer's expected purchases over the next ``t`` as
``E(t) = growth(t; x, T) * P(alive | x, t_x, T)``: the growth depends on the frequency and
the age only, P(alive) does not depend on ``t``. A million customers of two years' history
(in days) hold ~25,000 distinct ``(frequency, T)`` pairs but ~720,000 distinct
``(frequency, recency, T)`` triples, so the growth, BG/NBD's hypergeometric term, is
evaluated once per pair, and P(alive) once per customer whatever the number of horizons.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tenure.analytics._inputs import FloatArray
from tenure.analytics._optimize import group_rows


def by_distinct_pair(
    function: Callable[[FloatArray, FloatArray], FloatArray],
    first: FloatArray,
    second: FloatArray,
) -> FloatArray:
    """``function(first, second)`` evaluated once per distinct pair, one value per row."""
    if first.size == 0:
        return function(first, second)
    representative, group = group_rows([first, second])
    return function(first[representative], second[representative])[group]


def discounted_increments(
    curve: Callable[[float], FloatArray], times: FloatArray, discount_factors: FloatArray
) -> FloatArray:
    """``sum_k (curve(t_k) - curve(t_(k-1))) / discount_factors[k]`` with ``curve(t_0) = 0``:
    what each period adds to a cumulative curve, discounted."""
    times = np.asarray(times, dtype=float)
    discount_factors = np.asarray(discount_factors, dtype=float)
    if times.ndim != 1 or times.shape != discount_factors.shape or times.size == 0:
        raise ValueError("give one discount factor per time, at least one time")
    total: FloatArray | float = 0.0
    previous: FloatArray | float = 0.0
    for t, factor in zip(times.tolist(), discount_factors.tolist(), strict=True):
        cumulative = curve(t)
        total = total + (cumulative - previous) / factor
        previous = cumulative
    return np.asarray(total, dtype=float)
