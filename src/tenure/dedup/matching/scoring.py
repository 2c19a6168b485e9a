"""Fellegi-Sunter scoring with u from random pairs and m by expectation-maximisation.

As in splink (Robin Linacre et al., UK Ministry of Justice), every comparison level k of a
field has two probabilities: m_k = P(level k | same person) and u_k = P(level k | different
people). The match weight of a pair is log2(prior odds) + sum over fields of log2(m/u),
and its match probability is 1 / (1 + 2^-weight) (Fellegi & Sunter 1969).

- u is estimated from uniformly random record pairs, which are almost all non-matches
  (splink ``estimate_u_using_random_sampling``);
- m is estimated by EM with u held fixed, assuming fields independent given the match
  status; ``training.py`` runs it once per blocking rule, as splink's training sessions
  do. No labels are used.

EM runs on the distinct comparison patterns with their counts, not on the pairs: a 100k
base yields millions of candidate pairs but only a few thousand patterns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tenure.dedup.matching.arrays import distinct_with_first_index_and_counts
from tenure.dedup.matching.comparisons import FIELDS, Comparison, compare_pairs
from tenure.dedup.matching.records import PreparedRecords

# Half a pseudo-observation per level keeps a level never seen in the random sample (say
# "shared phone number" in a small base) from getting u = 0 and an infinite weight.
_U_PSEUDO_COUNT = 0.5
_M_FLOOR = 1e-6
# At most this many bits are added to an exact match on a rare value (8x the odds).
_MAX_RARE_VALUE_BOOST = 3.0


@dataclass(frozen=True)
class FieldModel:
    comparison: Comparison
    m: np.ndarray
    u: np.ndarray
    observed: bool  # False when no pair had this field on both sides: it then weighs 0

    @property
    def weights(self) -> np.ndarray:
        """log2(m/u) per level: the bits of evidence each level adds (negative = against).

        Agreeing levels (all but "different" and the comparison's weak levels) never count
        against a match. EM learns m from the duplicates present in the data, so on a base
        where, say, no duplicate uses a nickname it finds m ~ 0 for "nickname" and would
        make a nickname evidence *against*, which a person would not accept as a reason.
        Levels with ``weight_bounds`` (identifiers) are clipped to their bounds.
        """
        if not self.observed:
            return np.zeros(len(self.m))
        weights = np.log2(self.m / self.u)
        agreeing = np.ones(len(weights), dtype=bool)
        agreeing[-1] = False
        agreeing[list(self.comparison.weak_levels)] = False
        weights[agreeing] = np.maximum(weights[agreeing], 0.0)
        # A near miss (a typo, a nickname) never weighs more than the exact match: EM
        # learns a high m for "one typo" on a base whose planted duplicates are typos,
        # and a typo then outweighed an exact given name (11 bits against 6 on the demo).
        weights[1:-1] = np.minimum(weights[1:-1], max(weights[0], 0.0))
        for level, lowest, highest in self.comparison.weight_bounds:
            weights[level] = min(max(weights[level], lowest), highest)
        return weights


@dataclass(frozen=True)
class TrainingSession:
    """One EM run on the pairs of one blocking rule (for logs and benchmarks)."""

    rule: str
    pairs: int
    expected_matches: float
    trained_fields: tuple[str, ...]
    iterations: int


@dataclass(frozen=True)
class MatchModel:
    """Estimated parameters; ``prior`` is P(match) for a candidate pair."""

    prior: float
    fields: tuple[FieldModel, ...]
    sessions: tuple[TrainingSession, ...] = ()

    def field_weights(
        self, levels: np.ndarray, exact_value_share: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Weight (bits) of every field of every pair; 0 where the field was not comparable.

        ``exact_value_share`` (field -> share of records with the agreed value, NaN when
        not an exact match) applies splink's term-frequency adjustment: an exact match on
        a value held by a share p of records weighs log2(m_exact / p) instead of
        log2(m_exact / u_exact), since two strangers agree on that value with probability
        about p given one of them has it. The boost for rare values is capped, because a
        value seen once is as often a typo repeated by an import as a rare name.
        """
        result = np.zeros(levels.shape, dtype=np.float64)
        for column, field in enumerate(self.fields):
            present = levels[:, column] >= 0
            result[present, column] = field.weights[levels[present, column]]
            share = (exact_value_share or {}).get(field.comparison.field)
            if share is None or not field.observed:
                continue
            adjusted = ~np.isnan(share)
            adjustment = np.log2(field.u[0] / np.maximum(share[adjusted], 1e-12))
            result[adjusted, column] += np.minimum(adjustment, _MAX_RARE_VALUE_BOOST)
        return result

    def match_weight(
        self, levels: np.ndarray, exact_value_share: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        prior_weight = np.log2(self.prior / (1.0 - self.prior))
        return prior_weight + self.field_weights(levels, exact_value_share).sum(axis=1)


def match_probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60.0, 60.0)))


def random_pairs(count: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``size`` uniformly random pairs of distinct rows (with replacement across pairs)."""
    left = rng.integers(0, count, size=size)
    right = rng.integers(0, count - 1, size=size)
    right = right + (right >= left)
    return np.minimum(left, right), np.maximum(left, right)


def estimate_u(prepared: PreparedRecords, sample_size: int, seed: int) -> list[np.ndarray]:
    """u probabilities of every field's levels from random pairs."""
    size = min(sample_size, len(prepared) * (len(prepared) - 1) // 2)
    left, right = random_pairs(len(prepared), size, np.random.default_rng(seed))
    levels = compare_pairs(prepared, left, right).levels
    estimates = []
    for column, comparison in enumerate(FIELDS):
        counts = np.bincount(
            levels[levels[:, column] >= 0, column], minlength=len(comparison.levels)
        )
        smoothed = counts + _U_PSEUDO_COUNT
        estimates.append(smoothed / smoothed.sum())
    return estimates


def initial_m(level_count: int, comparison: Comparison | None = None) -> np.ndarray:
    """Where EM starts: matches mostly agree (0.5^k over agreeing levels), 5% "different";
    a comparison's ``fixed_m`` when it has one (EM then keeps it)."""
    if comparison is not None and comparison.fixed_m is not None:
        fixed = np.asarray(comparison.fixed_m, dtype=np.float64)
        return fixed / fixed.sum()
    m = 0.5 ** np.arange(level_count, dtype=np.float64)
    m[-1] = 0.0
    m = 0.95 * m / m.sum()
    m[-1] = 0.05
    return m


def comparison_patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``levels`` and how many pairs have each."""
    radix = max(len(comparison.levels) for comparison in FIELDS) + 1
    codes = np.zeros(len(levels), dtype=np.int64)
    for column in range(levels.shape[1]):
        codes = codes * radix + (levels[:, column].astype(np.int64) + 1)
    _, first_index, counts = distinct_with_first_index_and_counts(codes)
    return levels[first_index], counts.astype(np.float64)


def _log_likelihood(patterns: np.ndarray, probabilities: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(len(patterns))
    for column, level_probabilities in enumerate(probabilities):
        present = patterns[:, column] >= 0
        total[present] += np.log(level_probabilities[patterns[present, column]])
    return total


@dataclass(frozen=True)
class EmOutcome:
    m: list[np.ndarray]
    prior: float
    expected_matches: float
    iterations: int


def expectation_maximisation(
    patterns: np.ndarray,
    counts: np.ndarray,
    u: list[np.ndarray],
    m: list[np.ndarray],
    prior: float,
    *,
    update_m: bool,
    max_iterations: int,
    tolerance: float = 1e-6,
) -> EmOutcome:
    """EM for the two-class mixture, u fixed; m is re-estimated only if ``update_m``.

    Columns at -1 in ``patterns`` take no part, which is how a training session leaves
    out the fields its blocking rule forces to agree.
    """
    m = [level_m.copy() for level_m in m]
    log_u = _log_likelihood(patterns, u)
    expected = counts.copy()
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        log_odds = np.log(prior) - np.log1p(-prior) + _log_likelihood(patterns, m) - log_u
        expected = counts / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        new_prior = min(max(float(expected.sum() / counts.sum()), 1e-9), 1 - 1e-9)
        change = abs(new_prior - prior)
        prior = new_prior
        if update_m:
            for column, comparison in enumerate(FIELDS):
                present = patterns[:, column] >= 0
                if not present.any() or comparison.fixed_m is not None:
                    continue
                level_mass = np.bincount(
                    patterns[present, column],
                    weights=expected[present],
                    minlength=len(comparison.levels),
                )
                updated = np.maximum(level_mass / max(level_mass.sum(), 1e-300), _M_FLOOR)
                updated /= updated.sum()
                change = max(change, float(np.abs(updated - m[column]).max()))
                m[column] = updated
        if change < tolerance:
            break
    return EmOutcome(
        m=m, prior=prior, expected_matches=float(expected.sum()), iterations=iterations
    )
