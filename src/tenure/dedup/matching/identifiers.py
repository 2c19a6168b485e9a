"""Evidence from identifiers: shared emails and phones for a match, distinct ones against.

Two records that hold *different* personal email addresses or mobile numbers are
evidence that they are two people: a duplicate usually comes back with the address it
was created with. How much it weighs depends on how unique the identifiers are:

- a role address (``info@``, ``sales@``...), an address or number held by several
  records (a family address, a switchboard) or a landline says little either way: shared
  it is weak evidence for, different it is weak evidence against;
- two distinct personal addresses (or mobile numbers) are strong evidence against, unless
  the pair has some other identifier in common: people keep several addresses, and a pair
  sharing a phone while their emails differ is one person with a second address. Only a
  pair with no identifier in common that conflicts on both kinds carries the full weight
  (the two conflicts add up);
- ids in a namespace the workspace declares "one record per person" (a billing system's
  customer id) are compared too: the same id is strong evidence for, different ids
  strong evidence against. A source's own record ids (import row ids, FEBRL's rec_id)
  are never given to the matcher: duplicates inside one source carry different ones.

Levels of every identifier comparison, in this order: shared, shared weak, different
weak, different while another personal identifier is shared (neutral), different
(strong). Two colleagues who both answer ``info@`` but each have an address of their
own are "different": the role address they share does not excuse the conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers

from tenure.dedup.matching.blocking import pairs_within_blocks
from tenure.dedup.matching.records import PreparedRecords

# An identifier held by more than this many records is a role account or a household
# line, not one person's: shared it is weak evidence, different it weighs little.
PERSONAL_HOLDERS_LIMIT = 3
# Held by more than this many records, sharing it is not even looked for (pair cost).
_SHARED_IDENTIFIER_LIMIT = 50
_ROLES = """info sales contact admin office hello support team billing accounts accounting
enquiries inquiries mail webmaster noreply no-reply help service customerservice orders
bookings reception hr jobs careers marketing press media finance"""
ROLE_LOCAL_PARTS = frozenset(_ROLES.split())

SHARED, SHARED_WEAK, DIFFERENT_WEAK, DIFFERENT_BUT_LINKED, DIFFERENT = range(5)

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
# What EM assumes, and does not re-estimate, about identifiers of one person's records
# (shared, shared role, different one a role, different but linked, different). In
# Tenure an email belongs to one person, so the duplicates of a base never share one and
# different addresses are as common among strangers as among the records of one person:
# learned, the email field told EM nothing, and on the demo base EM then took every
# household at one address (8,755 of 8,755 pairs of a session) for one person.
IDENTIFIER_M = (0.6, 0.05, 0.1, 0.23, 0.02)
IDENTIFIER_BOUNDS = (
    (SHARED_WEAK, *_WEAK_FOR),
    (DIFFERENT_WEAK, *_WEAK_AGAINST),
    (DIFFERENT_BUT_LINKED, *_NEUTRAL),
    (DIFFERENT, *_STRONG_AGAINST),
)


def identifier_levels(noun: str) -> tuple[str, ...]:
    """Level labels of an identifier comparison; ``noun`` is e.g. "email address"."""
    return (
        f"shared {noun}",
        f"shared {noun}, but a role or household one: weak evidence",
        f"different {noun}es, one a role or shared one: weak evidence against"
        if noun.endswith("address")
        else f"different {noun}s, one a landline or shared one: weak evidence against",
        f"different {noun}es, but another identifier in common"
        if noun.endswith("address")
        else f"different {noun}s, but another identifier in common",
        f"different {noun}es: strong evidence against"
        if noun.endswith("address")
        else f"different {noun}s: strong evidence against",
    )


def _is_role_email(value: str) -> bool:
    local = value.split("@", 1)[0]
    return local.split("+", 1)[0] in ROLE_LOCAL_PARTS


@cache
def _is_landline(value: str) -> bool:
    """True only for numbers known to be fixed lines; unknown numbers count as personal."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.UNKNOWN,
    )


_NOT_PERSONAL: dict[str, Callable[[str], bool] | None] = {
    "emails": _is_role_email,
    "phones": _is_landline,
    "external_ids": None,
}


class IdentifierFacts:
    """Per column of identifiers: which pairs share one, and who holds a personal one."""

    def __init__(self, prepared: PreparedRecords, column: str) -> None:
        self.column = column
        exploded = prepared.values[column].explode().dropna()
        self.count = len(prepared)
        self.has_values = prepared.values[column].map(len).to_numpy() > 0
        self.has_personal = np.zeros(self.count, dtype=bool)
        self._sharing = np.empty(0, dtype=np.int64)
        self._sharing_personal = np.empty(0, dtype=np.int64)
        if exploded.empty:
            return
        rows = exploded.index.to_numpy(dtype=np.int64)
        codes, uniques = pd.factorize(exploded)
        codes = codes.astype(np.int64)
        holders = np.bincount(np.unique(np.c_[rows, codes], axis=0)[:, 1], minlength=len(uniques))
        personal_value = holders <= PERSONAL_HOLDERS_LIMIT
        test = _NOT_PERSONAL[column]
        if test is not None:
            not_personal = np.array([test(str(v)) for v in uniques], dtype=np.bool_)
            personal_value = personal_value & ~not_personal
        self.has_personal[rows[personal_value[codes]]] = True
        a, b, _ = pairs_within_blocks(rows, codes, max_block_size=_SHARED_IDENTIFIER_LIMIT)
        self._sharing = self._encode(a, b)
        keep = personal_value[codes]
        a, b, _ = pairs_within_blocks(
            rows[keep], codes[keep], max_block_size=_SHARED_IDENTIFIER_LIMIT
        )
        self._sharing_personal = self._encode(a, b)

    def _encode(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b) * self.count + np.maximum(a, b)

    def shared(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shares any value, shares a personal value) for every pair."""
        keys = left * self.count + right
        return np.isin(keys, self._sharing), np.isin(keys, self._sharing_personal)


_COLUMNS = (("email", "emails"), ("phone", "phones"), ("external_id", "external_ids"))


def compare_identifiers(
    prepared: PreparedRecords, left: np.ndarray, right: np.ndarray
) -> dict[str, np.ndarray]:
    """Levels of the "email", "phone" and "external_id" comparisons of every pair."""
    facts = {field: IdentifierFacts(prepared, column) for field, column in _COLUMNS}
    shared = {field: fact.shared(left, right) for field, fact in facts.items()}
    levels = {}
    for field, fact in facts.items():
        shares_any, shares_personal = shared[field]
        # Another kind of identifier in common excuses a difference only when it is a
        # personal one: a shared switchboard says nothing about two colleagues.
        linked = np.zeros(len(left), dtype=bool)
        for other, (_, other_personal) in shared.items():
            if other != field:
                linked |= other_personal
        comparable = fact.has_values[left] & fact.has_values[right]
        both_personal = fact.has_personal[left] & fact.has_personal[right]
        level = np.select(
            [shares_personal, both_personal & linked, both_personal, shares_any, linked],
            [SHARED, DIFFERENT_BUT_LINKED, DIFFERENT, SHARED_WEAK, DIFFERENT_BUT_LINKED],
            default=DIFFERENT_WEAK,
        )
        levels[field] = np.where(comparable, level, -1).astype(np.int8)
    return levels
