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

from tenure.dedup.matching.blocking import pairs_within_blocks
from tenure.dedup.matching.records import PreparedRecords
from tenure.dedup.matching.similarity import (
    adjacent_transposition,
    are_nicknames,
    digit_matrix,
    factorize,
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
# An email or phone held by more than this many records is a role account ("info@...") or
# a switchboard, not evidence that two people are one: it is left out of "shared".
_SHARED_IDENTIFIER_LIMIT = 50


@dataclass(frozen=True)
class Comparison:
    """A compared field: its level labels and the record columns shown as its values.

    ``weak_levels`` are near-misses that mostly mean "different" (same birth year only,
    house 199 vs 299, same state only): their weight may be negative. The other levels
    between exact and different are real agreement and never count against a match.
    """

    field: str
    levels: tuple[str, ...]
    shown_columns: tuple[str, ...]
    weak_levels: frozenset[int] = frozenset()


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
            _DIFFERENT,
        ),
        ("first_name",),
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
    Comparison("email", ("shared email address", "different email addresses"), ("emails",)),
    Comparison("phone", ("shared phone number", "different phone numbers"), ("phones",)),
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
    first_levels = _select(
        [lf == rf, nickname, first_edits <= 1, first_jw >= _SIMILAR_NAME, initial], both
    )
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


def _share_any(
    prepared: PreparedRecords, column: str, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    exploded = prepared.values[column].explode().dropna()
    if exploded.empty:
        return np.full(len(left), -1, dtype=np.int8)
    rows = exploded.index.to_numpy(dtype=np.int64)
    codes = pd.factorize(exploded)[0].astype(np.int64)
    a, b, _ = pairs_within_blocks(rows, codes, max_block_size=_SHARED_IDENTIFIER_LIMIT)
    count = len(prepared)
    sharing = np.minimum(a, b) * count + np.maximum(a, b)
    shared = np.isin(left * count + right, sharing)
    has_values = prepared.values[column].map(len).to_numpy() > 0
    return _select([shared], has_values[left] & has_values[right])


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
        "email": _share_any(prepared, "emails", left, right),
        "phone": _share_any(prepared, "phones", left, right),
        "street_number": _compare_street_number(prepared, left, right),
        "address": _compare_address(prepared, left, right),
        "location": _compare_location(prepared, left, right),
        "organization": _compare_organization(prepared, left, right),
    }
    levels = np.column_stack([by_field[comparison.field] for comparison in FIELDS])
    return ComparedPairs(
        left=left, right=right, levels=levels, names_swapped=swapped, exact_value_share=shares
    )
