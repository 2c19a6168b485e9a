"""Blocking: which pairs of records are worth comparing at all.

Comparing every pair of a 100k base is 5e9 comparisons; blocking only pairs records that
agree exactly on some cheap key (same date of birth, same postcode, same surname sound and
first initial, same email, ...). Several rules are unioned so that a typo in one key is
caught by another, as in splink's ``blocking_rules_to_generate_predictions``.

Pair generation is vectorised: records are sorted by key and, for every block of size k,
the k(k-1)/2 index pairs are produced with numpy ``repeat``/``cumsum`` arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tenure.dedup.matching.arrays import distinct
from tenure.dedup.matching.records import PreparedRecords

# Keys a blocking rule may use: columns of PreparedRecords.values. "emails", "phones"
# and "external_ids" are lists; a rule on them pairs records that share any one element.
BLOCKING_KEYS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "street_number",
        "address_line1",
        "address_line2",
        "city",
        "postcode",
        "region",
        "country",
        "date_of_birth",
        "organization",
        "emails",
        "phones",
        "external_ids",
        "last_name_soundex",
        "first_name_soundex",
        "first_initial",
        "last_initial",
        "name_soundex_pair",
        "birth_year",
    }
)
_LIST_KEYS = frozenset({"emails", "phones", "external_ids"})


@dataclass(frozen=True)
class BlockingRule:
    """Pair records whose values are equal on every key in ``keys`` (none missing)."""

    name: str
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = set(self.keys) - BLOCKING_KEYS
        if not self.keys or unknown:
            raise ValueError(f"blocking rule {self.name!r} has unknown keys {sorted(unknown)}")
        if len(set(self.keys) & _LIST_KEYS) > 1:
            raise ValueError(f"blocking rule {self.name!r} may use only one list key")


DEFAULT_BLOCKING_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("same email", ("emails",)),
    BlockingRule("same phone", ("phones",)),
    BlockingRule("same id in a one-record-per-person namespace", ("external_ids",)),
    BlockingRule("same date of birth", ("date_of_birth",)),
    # Postcode alone is the strongest single rule on FEBRL but gave 5.5M of the 7.3M pairs
    # of the 100k synthetic base; these three keep FEBRL3 blocking recall at 0.991
    # (0.9925 with postcode alone) with 2.5M pairs.
    BlockingRule("same postcode and family-name initial", ("postcode", "last_initial")),
    BlockingRule("same postcode and given-name initial", ("postcode", "first_initial")),
    BlockingRule("same postcode and street number", ("postcode", "street_number")),
    BlockingRule("similar surname, same first initial", ("last_name_soundex", "first_initial")),
    BlockingRule("similar names in either order", ("name_soundex_pair",)),
    BlockingRule("same street number and city", ("street_number", "city")),
)


@dataclass(frozen=True)
class CandidatePairs:
    """Row positions (into PreparedRecords) of the pairs to compare, ``left < right``.

    ``rules`` has bit k set when rule k of the unioned rules produced the pair; model
    training uses it to look at each rule's pairs on their own.
    """

    left: np.ndarray
    right: np.ndarray
    rules: np.ndarray
    skipped_blocks: dict[str, int]

    def __len__(self) -> int:
        return len(self.left)


def _block_codes(prepared: PreparedRecords, rule: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
    """Return (row positions, block code) for every row that has all of the rule's keys."""
    frame = prepared.values[list(rule.keys)]
    list_keys = [key for key in rule.keys if key in _LIST_KEYS]
    if list_keys:
        frame = frame.explode(list_keys[0])
    frame = frame.dropna()
    if frame.empty:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = frame.groupby(list(rule.keys), sort=False).ngroup().to_numpy(dtype=np.int64)
    rows = frame.index.to_numpy(dtype=np.int64)
    if list_keys:
        # A record listing the same email twice must not be paired with itself.
        unique = pd.DataFrame({"row": rows, "code": codes}).drop_duplicates()
        rows, codes = unique["row"].to_numpy(), unique["code"].to_numpy()
    return rows, codes


def pairs_within_blocks(
    rows: np.ndarray, codes: np.ndarray, *, max_block_size: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """All pairs of ``rows`` sharing a code, skipping blocks larger than ``max_block_size``.

    Returns (left rows, right rows, number of skipped blocks).
    """
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_codes)])
    skipped = int(np.count_nonzero(sizes > max_block_size))
    keep = (sizes >= 2) & (sizes <= max_block_size)
    starts, sizes = starts[keep], sizes[keep]
    if len(starts) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, skipped
    # Every member at offset o of a block of size k pairs with the k-1-o members after it.
    member_start = np.repeat(starts, sizes)
    member_size = np.repeat(sizes, sizes)
    member = member_start + _ranges(sizes)
    partners = member_size - 1 - (member - member_start)
    left_pos = np.repeat(member, partners)
    right_pos = left_pos + 1 + _ranges(partners)
    return sorted_rows[left_pos], sorted_rows[right_pos], skipped


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenate arange(n) for every n in ``lengths`` without a Python loop."""
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


def generate_candidate_pairs(
    prepared: PreparedRecords, rules: tuple[BlockingRule, ...], *, max_block_size: int
) -> CandidatePairs:
    """Union of the pairs produced by every rule, each unordered pair once."""
    if len(rules) > 32:
        raise ValueError("at most 32 blocking rules can be unioned")
    count = len(prepared)
    per_rule: list[np.ndarray] = []
    skipped: dict[str, int] = {}
    for rule in rules:
        rows, codes = _block_codes(prepared, rule)
        left, right, skipped_blocks = pairs_within_blocks(
            rows, codes, max_block_size=max_block_size
        )
        if skipped_blocks:
            skipped[rule.name] = skipped_blocks
        low, high = np.minimum(left, right), np.maximum(left, right)
        different_rows = low != high
        # A pair may appear twice in one rule only through a list key (two shared emails).
        per_rule.append(distinct(low[different_rows] * count + high[different_rows]))
    unique = distinct(np.concatenate(per_rule)) if per_rule else np.empty(0, dtype=np.int64)
    membership = np.zeros(len(unique), dtype=np.uint32)
    for index, encoded in enumerate(per_rule):
        membership[np.searchsorted(unique, encoded)] |= np.uint32(1 << index)
    return CandidatePairs(
        left=unique // count, right=unique % count, rules=membership, skipped_blocks=skipped
    )
