"""Evidence from identifiers and given-name variants, on the matcher's record frame.

A base of 2,000 synthetic records gives the model its u and m; hand-written people carry
the cases the issue names (Maria vs Mario Garcia, one person with a second address, a
shared info@ address, a shared phone, ids in a one-record-per-person namespace).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.dedup_truth.synthetic import generate_base
from tenure.dedup.matching import MatchConfig, MatchResult, match_records
from tenure.dedup.matching.comparisons import FIELDS, compare_pairs
from tenure.dedup.matching.records import prepare_records
from tenure.dedup.matching.similarity import are_nicknames

COLUMNS = [
    "record_id",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "external_ids",
    "date_of_birth",
    "street_number",
    "address_line1",
    "city",
    "postcode",
]
PEOPLE = [
    # Two people of one family at one address, each with an address of their own.
    ["maria", "Maria", "Garcia", ["maria.garcia@example.org"], [], [], None,
     "7", "Juniper Lane", "Tamworth", "2340"],
    ["mario", "Mario", "Garcia", ["mario.garcia@example.com"], [], [], None,
     "7", "Juniper Lane", "Tamworth", "2340"],
    # One person who registered again with a second address.
    ["kenji", "Kenji", "Tanaka", ["kenji.tanaka@example.org"], [], [], "1979-05-14",
     "31", "Banksia Street", "Dubbo", "2830"],
    ["kenji-again", "Kenji", "Tanaka", ["k.tanaka@example.net"], [], [], "1979-05-14",
     "31", "Banksia Street", "Dubbo", "2830"],
    # Colleagues behind one role address.
    ["anna", "Anna", "Okafor", ["info@acme.example"], [], [], None,
     "2", "Quarry Road", "Orange", "2800"],
    ["bo", "Bo", "Okafor", ["info@acme.example", "bo.okafor@example.org"], [], [], None,
     "2", "Quarry Road", "Orange", "2800"],
    # One person, a second email, the same mobile.
    ["lars", "Lars", "Larsen", ["lars@example.org"], ["+61412000001"], [], None,
     None, None, "Albury", "2640"],
    ["lars-again", "Lars", "Larsen", ["l.larsen@example.com"], ["+61412000001"], [], None,
     None, None, "Albury", "2640"],
    # Two records with different ids in a one-record-per-person namespace.
    ["ines", "Ines", "Rossi", [], [], ["billing:100"], "1990-01-02",
     "9", "Ivy Court", "Bathurst", "2795"],
    ["ines-billing", "Ines", "Rossi", [], [], ["billing:200"], "1990-01-02",
     "9", "Ivy Court", "Bathurst", "2795"],
]  # fmt: skip


def _column(field: str) -> int:
    return next(i for i, c in enumerate(FIELDS) if c.field == field)


def _pair(pairs: pd.DataFrame, one: str, other: str) -> pd.Series | None:
    match = pairs[
        ((pairs["left_id"] == one) & (pairs["right_id"] == other))
        | ((pairs["left_id"] == other) & (pairs["right_id"] == one))
    ]
    return match.iloc[0] if len(match) else None


@pytest.fixture(scope="module")
def result() -> MatchResult:
    base = generate_base(2000, seed=7).records
    base["external_ids"] = [[] for _ in range(len(base))]
    people = pd.DataFrame(PEOPLE, columns=COLUMNS)
    return match_records(pd.concat([base, people], ignore_index=True))


def _levels(records: list[list[object]], field: str) -> list[int]:
    frame = pd.DataFrame(records, columns=COLUMNS)
    prepared = prepare_records(frame)
    count = len(frame)
    left, right = np.triu_indices(count, k=1)
    compared = compare_pairs(prepared, left.astype(np.int64), right.astype(np.int64))
    return compared.levels[:, _column(field)].tolist()


def test_maria_and_mario_garcia_with_different_emails_are_not_merged(result) -> None:
    pair = _pair(result.pairs, "maria", "mario")
    # Two given names of different genders and two personal addresses: two people, so the
    # pair is not proposed at all (at most it could be reviewed, never merged).
    assert pair is None or pair["decision"] == "review"


def test_the_same_person_with_a_second_email_is_found_for_review(result) -> None:
    pair = _pair(result.pairs, "kenji", "kenji-again")
    assert pair is not None
    assert pair["decision"] == "review"
    email = pair["evidence"]["email"]
    assert email["level"] == "different email addresses: strong evidence against"
    assert email["weight"] <= -4.0
    decision = pair["evidence"]["decision"]
    assert decision["conflict"] is True
    assert decision["level"].startswith("review, never merged automatically")
    assert "different email addresses" in decision["level"]


def test_a_shared_role_address_is_weak_evidence(result) -> None:
    levels = _levels(PEOPLE[4:6], "email")
    assert FIELDS[_column("email")].levels[levels[0]].startswith("shared email address, but a role")
    weights = result.model.fields[_column("email")].weights
    assert 0.0 <= weights[levels[0]] <= 1.0
    # A personal address against a role one is weak evidence against, not strong.
    one_role = [PEOPLE[4], [*PEOPLE[6][:3], ["bo@example.org"], *PEOPLE[6][4:]]]
    level = _levels(one_role, "email")[0]
    assert (
        "one a role or shared one: weak evidence against" in FIELDS[_column("email")].levels[level]
    )
    assert -1.0 <= weights[level] <= 0.0


def test_a_shared_role_address_does_not_excuse_distinct_personal_ones() -> None:
    colleagues = [
        [*PEOPLE[4][:3], ["info@acme.example", "anna.okafor@example.org"], *PEOPLE[4][4:]],
        PEOPLE[5],
    ]
    label = FIELDS[_column("email")].levels[_levels(colleagues, "email")[0]]
    assert label == "different email addresses: strong evidence against"


def test_a_shared_phone_excuses_a_second_email(result) -> None:
    pair = _pair(result.pairs, "lars", "lars-again")
    assert pair is not None
    assert pair["evidence"]["email"]["level"] == (
        "different email addresses, but another identifier in common"
    )
    assert pair["evidence"]["email"]["weight"] == 0.0
    assert pair["evidence"]["phone"]["level"] == "shared phone number"
    assert pair["evidence"]["decision"]["conflict"] is False


def test_different_ids_in_a_one_record_per_person_namespace_are_never_merged(result) -> None:
    pair = _pair(result.pairs, "ines", "ines-billing")
    assert pair is not None, "same name, birth date and address: proposed for review"
    assert pair["decision"] == "review"
    assert pair["evidence"]["external_id"]["weight"] <= -4.0
    assert "different customer ids" in pair["evidence"]["decision"]["level"]


def test_without_the_conflict_the_same_pair_would_merge_automatically() -> None:
    base = generate_base(2000, seed=7).records
    people = pd.DataFrame(PEOPLE[8:10], columns=COLUMNS).drop(columns=["external_ids"])
    pairs = match_records(pd.concat([base, people], ignore_index=True)).pairs
    pair = _pair(pairs, "ines", "ines-billing")
    assert pair is not None and pair["decision"] == "auto"
    assert pair["evidence"]["decision"]["level"].startswith("merge automatically")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Mark", "Mary"),
        ("Mary", "Marie"),
        ("Marie", "Maria"),
        ("Mary", "Maria"),
        ("Mario", "Maria"),
        ("Carl", "Carol"),
        ("Joan", "Jean"),
    ],
)
def test_distinct_given_names_are_neither_nicknames_nor_typos(left: str, right: str) -> None:
    assert not are_nicknames(left.lower(), right.lower())
    level = _levels(
        [["a", left, "Payne", [], [], [], None, None, None, None, None],
         ["b", right, "Payne", [], [], [], None, None, None, None, None]],
        "first_name",
    )[0]  # fmt: skip
    labels = FIELDS[_column("first_name")].levels
    assert labels[level].startswith(("different", "two different given names")), labels[level]
    assert FIELDS[_column("first_name")].is_different(np.array([level]))[0]


def test_real_nicknames_and_typos_keep_their_levels() -> None:
    labels = FIELDS[_column("first_name")].levels
    rows = [
        ["a", "William", "Payne", [], [], [], None, None, None, None, None],
        ["b", "Bill", "Payne", [], [], [], None, None, None, None, None],
    ]
    assert labels[_levels(rows, "first_name")[0]].startswith("nickname")
    rows[1][1] = "Wiliam"
    assert labels[_levels(rows, "first_name")[0]].startswith("one typo")


def test_a_config_naming_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown compared fields"):
        MatchConfig(reject_if_different_and_conflicting=frozenset({"shoe_size"}))
