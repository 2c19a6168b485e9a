"""Comparison levels of given and family names (the first two fields of ``FIELDS``).

Given name levels: 0 exact, 1 nickname, 2 one typo, 3 similar spelling, 4 initial, 5
another given name alike in spelling (``ANOTHER_GIVEN_NAME``), 6 different. Family name
levels: 0 exact, 1 one typo, 2 similar spelling, 3 different.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from tenure.dedup.matching.records import PreparedRecords
from tenure.dedup.matching.similarity import (
    are_nicknames,
    factorize,
    given_name_genders,
    map_code_pairs,
    nickname_families,
    score_code_pairs,
)

# Jaro-Winkler 0.88 is splink's middle name level; on FEBRL it keeps "bullock"/"bullvck"
# (0.94) and "hannagan"/"hannaan" (0.97) while "green"/"white" scores 0.60.
_SIMILAR_NAME = 0.88
_SWAPPED_NAME_ANCHOR = 0.95
_SWAPPED_NAME_PARTNER = 0.6
# The first_name level of two different names that are both given names of their own.
ANOTHER_GIVEN_NAME = 5
FIRST_NAME_DIFFERENT = 6


def _select(conditions: list[np.ndarray], comparable: np.ndarray) -> np.ndarray:
    """First true condition's index per pair, len(conditions) when none, -1 if incomparable."""
    levels = np.select(conditions, list(range(len(conditions))), default=len(conditions))
    return np.where(comparable, levels, -1).astype(np.int8)


def _value_share(codes: np.ndarray, size: int) -> np.ndarray:
    """Per code, the share of the non-missing values that carry it."""
    counts = np.bincount(codes[codes >= 0], minlength=size).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _exact_share(level: np.ndarray, value_codes: np.ndarray, share: np.ndarray) -> np.ndarray:
    result = np.full(len(level), np.nan, dtype=np.float32)
    exact = level == 0
    result[exact] = share[value_codes[exact]]
    return result


def compare_names(
    prepared: PreparedRecords, left: np.ndarray, right: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    (first, last), names = factorize(prepared.column("first_name"), prepared.column("last_name"))
    lf, ll, rf, rl = first[left], last[left], first[right], last[right]
    first_jw = score_code_pairs(lf, rf, names, JaroWinkler.similarity)
    last_jw = score_code_pairs(ll, rl, names, JaroWinkler.similarity)
    cross_first = score_code_pairs(lf, rl, names, JaroWinkler.similarity)
    cross_last = score_code_pairs(ll, rf, names, JaroWinkler.similarity)
    # FEBRL and hand-typed forms swap given and family name, often together with another
    # mistake ("kitty overington" / "o kitty"). A swap is assumed when one crossed name
    # agrees (nearly) exactly, the other is at least loosely alike (an initial scores
    # 0.73, a nickname such as oliver/ollie 0.84) and the crossed reading fits clearly
    # better than the straight one.
    cross_first, cross_last = np.nan_to_num(cross_first), np.nan_to_num(cross_last)
    swapped = (
        (np.maximum(cross_first, cross_last) >= _SWAPPED_NAME_ANCHOR)
        & (np.minimum(cross_first, cross_last) >= _SWAPPED_NAME_PARTNER)
        & (cross_first + cross_last > np.nan_to_num(first_jw) + np.nan_to_num(last_jw) + 0.1)
    )
    rf, rl = np.where(swapped, rl, rf), np.where(swapped, rf, rl)
    first_jw = np.where(swapped, cross_first, first_jw)
    last_jw = np.where(swapped, cross_last, last_jw)

    first_edits = score_code_pairs(lf, rf, names, DamerauLevenshtein.distance)
    in_table = np.array([name in nickname_families() for name in names], dtype=bool)
    maybe_nickname = (lf >= 0) & (rf >= 0) & (lf != rf)
    maybe_nickname[maybe_nickname] = in_table[lf[maybe_nickname]] & in_table[rf[maybe_nickname]]
    nickname = np.zeros(len(lf), dtype=bool)
    nickname[maybe_nickname] = map_code_pairs(
        lf[maybe_nickname], rf[maybe_nickname], names, are_nicknames
    )
    is_initial = np.array([len(name) == 1 for name in names], dtype=bool)
    (initials,), _ = factorize(np.array([name[0] for name in names], dtype=object))
    both = (lf >= 0) & (rf >= 0)
    initial = np.zeros(len(lf), dtype=bool)
    initial[both] = (is_initial[lf[both]] | is_initial[rf[both]]) & (
        initials[lf[both]] == initials[rf[both]]
    )
    # Two different names that are both given names of their own (mark/mary, carl/carol,
    # joan/jean) are two names, not a typo: alike in spelling they get a level of their
    # own, which EM may weigh against, and of different genders they are "different".
    genders = given_name_genders()
    gender = np.array([genders.get(name, "") for name in names], dtype=object)
    known = gender != ""
    distinct = both & (lf != rf) & ~nickname
    distinct[distinct] = known[lf[distinct]] & known[rf[distinct]]
    gender_differs = np.zeros(len(lf), dtype=bool)
    gender_differs[distinct] = (
        (gender[lf[distinct]] != "u")
        & (gender[rf[distinct]] != "u")
        & (gender[lf[distinct]] != gender[rf[distinct]])
    )
    alike = (first_edits <= 1) | (first_jw >= _SIMILAR_NAME)
    different = FIRST_NAME_DIFFERENT
    first_levels = np.select(
        [
            lf == rf,
            nickname,
            distinct & gender_differs,
            distinct & alike,
            distinct,
            first_edits <= 1,
            first_jw >= _SIMILAR_NAME,
            initial,
        ],
        [0, 1, different, ANOTHER_GIVEN_NAME, different, 2, 3, 4],
        default=different,
    )
    first_levels = np.where(both, first_levels, -1).astype(np.int8)
    last_edits = score_code_pairs(ll, rl, names, DamerauLevenshtein.distance)
    last_levels = _select(
        [ll == rl, last_edits <= 1, last_jw >= _SIMILAR_NAME], (ll >= 0) & (rl >= 0)
    )
    shares = {
        "first_name": _exact_share(first_levels, lf, _value_share(first, len(names))),
        "last_name": _exact_share(last_levels, ll, _value_share(last, len(names))),
    }
    return first_levels, last_levels, swapped, shares
