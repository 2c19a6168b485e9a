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
    IDENTIFIER_BOUNDS,
    IDENTIFIER_M,
    compare_identifiers,
    identifier_levels,
)
from tenure.dedup.matching.name_levels import ANOTHER_GIVEN_NAME, compare_names
from tenure.dedup.matching.records import PreparedRecords
from tenure.dedup.matching.similarity import (
    adjacent_transposition,
    digit_matrix,
    factorize,
    score_code_pairs,
)

_SIMILAR_PLACE = 0.90
_ADDRESS_SAME_WORDS = 2  # "same words, reordered or partly missing"


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
    last level always does). ``fixed_m`` (m per level) is held fixed by EM.
    """

    field: str
    levels: tuple[str, ...]
    shown_columns: tuple[str, ...]
    weak_levels: frozenset[int] = frozenset()
    weight_bounds: tuple[tuple[int, float, float], ...] = ()
    conflict_levels: frozenset[int] = frozenset()
    different_levels: frozenset[int] = frozenset()
    fixed_m: tuple[float, ...] | None = None

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
        weight_bounds=IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT}),
        fixed_m=IDENTIFIER_M,
    ),
    Comparison(
        "phone",
        identifier_levels("phone number"),
        ("phones",),
        weak_levels=frozenset({DIFFERENT_WEAK, DIFFERENT_BUT_LINKED}),
        weight_bounds=IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT}),
        fixed_m=IDENTIFIER_M,
    ),
    Comparison(
        "external_id",
        identifier_levels("customer id"),
        ("external_ids",),
        weak_levels=frozenset({DIFFERENT_WEAK, DIFFERENT_BUT_LINKED}),
        weight_bounds=IDENTIFIER_BOUNDS,
        conflict_levels=frozenset({DIFFERENT_WEAK, DIFFERENT}),
        fixed_m=IDENTIFIER_M,
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


def _field(name: str) -> Comparison:
    return next(comparison for comparison in FIELDS if comparison.field == name)


def compare_pairs(prepared: PreparedRecords, left: np.ndarray, right: np.ndarray) -> ComparedPairs:
    """Comparison levels of every candidate pair, one column per entry of FIELDS."""
    first, last, swapped, shares = compare_names(prepared, left, right)
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
    # The same street line in another region is another street ("12 Elm Street" is in
    # most towns): it counts as "some words in common", not as the same address.
    elsewhere = by_field["location"] == len(_field("location").levels) - 1
    street_alike = (by_field["address"] >= 0) & (by_field["address"] <= _ADDRESS_SAME_WORDS)
    by_field["address"] = np.where(
        elsewhere & street_alike, _ADDRESS_SAME_WORDS + 1, by_field["address"]
    ).astype(np.int8)
    levels = np.column_stack([by_field[comparison.field] for comparison in FIELDS])
    return ComparedPairs(
        left=left, right=right, levels=levels, names_swapped=swapped, exact_value_share=shares
    )
