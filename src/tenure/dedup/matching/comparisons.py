"""Per-field comparison levels of candidate pairs (the gamma vectors of Fellegi-Sunter).

Each field compares the two records of a pair and puts the pair in one ordered level, from
the strongest agreement (0) down to "different"; -1 means the field is missing on either
side and carries no evidence. Level labels are written for people: they become the
``evidence`` shown next to a suggested merge, with ``{left}``/``{right}`` filled in with
the two values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from tenure.dedup.matching.identifiers import (
    DIFFERENT,
    DIFFERENT_BUT_LINKED,
    DIFFERENT_WEAK,
    SHARED_WEAK,
    compare_identifiers,
    identifier_levels,
)
from tenure.dedup.matching.records import PreparedRecords
from tenure.dedup.matching.similarity import (
    adjacent_transposition,
    are_nicknames,
    digit_matrix,
    factorize,
    given_name_genders,
    map_code_pairs,
    nickname_families,
    score_code_pairs,
)

# Jaro-Winkler 0.88 is splink's middle name level; on FEBRL it keeps "bullock"/"bullvck"
# (0.94) and "hannagan"/"hannaan" (0.97) while "green"/"white" scores 0.60.
_SIMILAR_NAME = 0.88
_SIMILAR_PLACE = 0.90
_SWAPPED_NAME_ANCHOR = 0.95
_SWAPPED_NAME_PARTNER = 0.6
# Bits of evidence of the identifier levels, whatever EM learns from the base: a weak
# level stays within one bit either way, a neutral one is 0, and a conflict on a personal
# identifier is worth at least 4 bits against (a 16x lower odds; email and phone
# together 8 bits). EM alone learns how often this base's duplicates change address,
# which on a base with a few planted duplicates and many namesakes is nearly never, and
# on FEBRL (no identifiers) nothing.
_WEAK_FOR = (0.0, 1.0)
_WEAK_AGAINST = (-1.0, 0.0)
_NEUTRAL = (0.0, 0.0)
_STRONG_AGAINST = (-12.0, -4.0)
_IDENTIFIER_BOUNDS = (
    (SHARED_WEAK, *_WEAK_FOR),
    (DIFFERENT_WEAK, *_WEAK_AGAINST),
    (DIFFERENT_BUT_LINKED, *_NEUTRAL),
    (DIFFERENT, *_STRONG_AGAINST),
)
# The first_name level of two different names that are both given names of their own.
ANOTHER_GIVEN_NAME = 5


@dataclass(frozen=True)
class Comparison:
    """A compared field: its level labels and the record columns shown as its values.

    ``weak_levels`` are near-misses that mostly mean "different" (same birth year only,
    house 199 vs 299, same state only): their weight may be negative. The other levels
    between exact and different are real agreement and never count against a match.
    ``weight_bounds`` holds (level, lowest, highest) bits for levels whose weight is set
    by what they mean rather than only learned (identifiers). ``conflict_levels`` are
    conflicts on a strong identifier: a pair at one is never merged automatically.
    ``different_levels`` count as "different" for the guards of ``MatchConfig`` (the
    last level always does).
    """

    field: str
    levels: tuple[str, ...]
    shown_columns: tuple[str, ...]
    weak_levels: frozenset[int] = frozenset()
    weight_bounds: tuple[tuple[int, float, float], ...] = ()
    conflict_levels: frozenset[int] = frozenset()
    different_levels: frozenset[int] = frozenset()

    def is_different(self, levels: np.ndarray) -> np.ndarray:
        different = levels == len(self.levels) - 1
        for level in self.different_levels:
            different |= levels == level
        return different


_DIFFERENT = "different ({left} / {right})"
FIELDS: tuple[Comparison, ...] = (
    Comparison(
        "first_name",
        (
            "exact match",
            "nickname ({left} / {right})",
            "one typo ({left} / {right})",
            "similar spelling ({left} / {right})",
            "initial matches ({left} / {right})",
            "two different given names, alike in spelling ({left} / {right})",
            _DIFFERENT,
        ),
        ("first_name",),
        weak_levels=frozenset({ANOTHER_GIVEN_NAME}),
        different_levels=frozenset({ANOTHER_GIVEN_NAME}),
    ),
    Comparison(
        "last_name",
        (
            "exact match",
            "one typo ({left} / {right})",
            "similar spelling ({left} / {right})",
            _DIFFERENT,
        ),
        ("last_name",),
    ),
    Comparison(
        "date_of_birth",
        (
            "exact match",
            "day and month swapped ({left} / {right})",
            "transposed digits ({left} / {right})",
            "one digit different ({left} / {right})",
            "same year only ({left} / {right})",
            _DIFFERENT,
        ),
        ("date_of_birth",),
        weak_levels=frozenset({4}),
    ),
    Comparison(
        "email",
        identifier_levels("email address"),
        ("emails",),
        weak_levels=frozenset({DIFFERENT_WEAK, DIFFERENT_BUT_LINKED}),
        weight_bounds=_IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT}),
    ),
    Comparison(
        "phone",
        identifier_levels("phone number"),
        ("phones",),
        weak_levels=frozenset({DIFFERENT_WEAK, DIFFERENT_BUT_LINKED}),
        weight_bounds=_IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT}),
    ),
    Comparison(
        "external_id",
        identifier_levels("customer id"),
        ("external_ids",),
        weak_levels=frozenset({DIFFERENT_WEAK, DIFFERENT_BUT_LINKED}),
        weight_bounds=_IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT_WEAK, DIFFERENT}),
    ),
    Comparison(
        "street_number",
        ("exact match", "one character different ({left} / {right})", _DIFFERENT),
        ("street_number",),
        weak_levels=frozenset({1}),
    ),
    Comparison(
        "address",
        (
            "exact match",
            "small typos ({left} / {right})",
            "same words, reordered or partly missing ({left} / {right})",
            "some words in common ({left} / {right})",
            _DIFFERENT,
        ),
        ("address_line1", "address_line2"),
        weak_levels=frozenset({3}),
    ),
    Comparison(
        "location",
        (
            "same postcode and city",
            "same postcode ({left} / {right})",
            "same city ({left} / {right})",
            "postcode one digit different ({left} / {right})",
            "same region only ({left} / {right})",
            _DIFFERENT,
        ),
        ("city", "postcode", "region", "country"),
        weak_levels=frozenset({4}),
    ),
    Comparison(
        "organization",
        ("exact match", "similar name ({left} / {right})", _DIFFERENT),
        ("organization",),
    ),
)


@dataclass(frozen=True)
class ComparedPairs:
    """Comparison levels of candidate pairs: ``levels[:, k]`` belongs to ``FIELDS[k]``."""

    left: np.ndarray
    right: np.ndarray
    levels: np.ndarray  # int8, shape (pairs, len(FIELDS)), -1 = not comparable
    names_swapped: np.ndarray  # bool: first/last of the right record were swapped to compare
    # Share of records carrying the agreed value, for exact name matches (NaN otherwise):
    # the term frequency that scoring uses to weigh "smith = smith" below "quilliam =
    # quilliam".
    exact_value_share: dict[str, np.ndarray]

    def subset(self, rows: np.ndarray) -> ComparedPairs:
        return ComparedPairs(
            left=self.left[rows],
            right=self.right[rows],
            levels=self.levels[rows],
            names_swapped=self.names_swapped[rows],
            exact_value_share={k: v[rows] for k, v in self.exact_value_share.items()},
        )


def _select(conditions: list[np.ndarray], comparable: np.ndarray) -> np.ndarray:
    """First true condition's index per pair, len(conditions) when none, -1 if incomparable."""
    levels = np.select(conditions, list(range(len(conditions))), default=len(conditions))
    return np.where(comparable, levels, -1).astype(np.int8)


def _codes(prepared: PreparedRecords, column: str) -> tuple[np.ndarray, np.ndarray]:
    (codes,), uniques = factorize(prepared.column(column))
    return codes, uniques


def _without_spaces(prepared: PreparedRecords, column: str) -> pd.Series:
    return prepared.values[column].str.replace(" ", "", regex=False)


def _value_share(codes: np.ndarray, size: int) -> np.ndarray:
    """Per code, the share of the non-missing values that carry it."""
    counts = np.bincount(codes[codes >= 0], minlength=size).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _exact_share(level: np.ndarray, value_codes: np.ndarray, share: np.ndarray) -> np.ndarray:
    result = np.full(len(level), np.nan, dtype=np.float32)
    exact = level == 0
    result[exact] = share[value_codes[exact]]
    return result


def _compare_names(
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
    different = len(FIELDS[0].levels) - 1
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


def _compare_dates(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    digits, valid = digit_matrix(prepared.column("date_of_birth"), 8)
    a, b = digits[left], digits[right]
    different_digits = (a != b).sum(axis=1)
    same_year = (a[:, :4] == b[:, :4]).all(axis=1)
    day_month_swapped = (
        same_year & (a[:, 4:6] == b[:, 6:8]).all(axis=1) & (a[:, 6:8] == b[:, 4:6]).all(axis=1)
    )
    return _select(
        [
            different_digits == 0,
            day_month_swapped,
            adjacent_transposition(a, b),
            different_digits == 1,
            same_year,
        ],
        valid[left] & valid[right],
    )


def _compare_street_number(
    prepared: PreparedRecords, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    (codes,), uniques = factorize(_without_spaces(prepared, "street_number").to_numpy(dtype=object))
    a, b = codes[left], codes[right]
    one_edit = score_code_pairs(a, b, uniques, DamerauLevenshtein.distance) <= 1
    return _select([a == b, one_edit], (a >= 0) & (b >= 0))


def _compare_location(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Postcode, city, region and country as one comparison.

    They are one fact (where someone lives) written four times: compared as independent
    fields, two strangers in the same suburb collected postcode + city + region = 21 bits
    on a 20k synthetic base, enough to outvote a different name, birth date and street.
    Countries that differ rule the location out whatever the rest says.
    """

    def codes(column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (all_codes,), uniques = factorize(_without_spaces(prepared, column).to_numpy(dtype=object))
        return all_codes[left], all_codes[right], uniques

    postcode_l, postcode_r, postcodes = codes("postcode")
    city_l, city_r, cities = codes("city")
    region_l, region_r, _ = codes("region")
    country_l, country_r, _ = codes("country")
    has_postcode = (postcode_l >= 0) & (postcode_r >= 0)
    has_city = (city_l >= 0) & (city_r >= 0)
    has_region = (region_l >= 0) & (region_r >= 0)
    same_postcode = has_postcode & (postcode_l == postcode_r)
    city_similarity = score_code_pairs(city_l, city_r, cities, JaroWinkler.similarity)
    same_city = has_city & ((city_l == city_r) | (city_similarity >= _SIMILAR_PLACE))
    postcode_typo = score_code_pairs(postcode_l, postcode_r, postcodes, DamerauLevenshtein.distance)
    has_country = (country_l >= 0) & (country_r >= 0)
    same_country = ~(has_country & (country_l != country_r))
    return _select(
        [
            same_country & same_postcode & same_city,
            same_country & same_postcode,
            same_country & same_city,
            same_country & (postcode_typo <= 1),
            same_country & has_region & (region_l == region_r),
        ],
        has_postcode | has_city | has_region | has_country,
    )


def _compare_address(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    values = prepared.values
    joined = (
        values["address_line1"].fillna("") + " " + values["address_line2"].fillna("")
    ).str.strip()
    joined = joined.where(joined != "", None)
    (codes,), uniques = factorize(joined.to_numpy(dtype=object))
    (compact,), compact_uniques = factorize(
        joined.str.replace(" ", "", regex=False).to_numpy(dtype=object)
    )
    a, b = codes[left], codes[right]
    ratio = score_code_pairs(compact[left], compact[right], compact_uniques, fuzz.ratio)
    token_set = score_code_pairs(a, b, uniques, fuzz.token_set_ratio)
    return _select(
        [compact[left] == compact[right], ratio >= 88, token_set >= 85, token_set >= 60],
        (a >= 0) & (b >= 0),
    )


def _compare_organization(
    prepared: PreparedRecords, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    codes, uniques = _codes(prepared, "organization")
    a, b = codes[left], codes[right]
    similar = score_code_pairs(a, b, uniques, fuzz.token_sort_ratio) >= 90
    return _select([a == b, similar], (a >= 0) & (b >= 0))


def compare_pairs(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> ComparedPairs:
    """Comparison levels of every candidate pair, one column per entry of FIELDS."""
    first, last, swapped, shares = _compare_names(prepared, left, right)
    by_field = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": _compare_dates(prepared, left, right),
        **compare_identifiers(prepared, left, right),
        "street_number": _compare_street_number(prepared, left, right),
        "address": _compare_address(prepared, left, right),
        "location": _compare_location(prepared, left, right),
        "organization": _compare_organization(prepared, left, right),
    }
    levels = np.column_stack([by_field[comparison.field] for comparison in FIELDS])
    return ComparedPairs(
        left=left, right=right, levels=levels, names_swapped=swapped, exact_value_share=shares
    )
