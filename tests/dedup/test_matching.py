"""The duplicate matcher's parts and its public behaviour on small, readable inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tenure.dedup.matching as matching
from bench.dedup_truth.synthetic import generate_base
from tenure.dedup.matching import (
    RESULT_COLUMNS,
    BlockingRule,
    MatchConfig,
    MatchResult,
    cluster_pairs,
    find_duplicates,
    match_records,
)
from tenure.dedup.matching.blocking import generate_candidate_pairs, pairs_within_blocks
from tenure.dedup.matching.comparisons import FIELDS, Comparison, compare_pairs
from tenure.dedup.matching.records import clean_name, prepare_records, soundex
from tenure.dedup.matching.scoring import FieldModel, MatchModel
from tenure.dedup.matching.similarity import are_nicknames


def _level(field: str, words: str) -> int:
    comparison = next(c for c in FIELDS if c.field == field)
    return next(i for i, label in enumerate(comparison.levels) if label.startswith(words))


def _pair(pairs: pd.DataFrame, one: str, other: str) -> pd.Series:
    match = pairs[
        ((pairs["left_id"] == one) & (pairs["right_id"] == other))
        | ((pairs["left_id"] == other) & (pairs["right_id"] == one))
    ]
    assert len(match) == 1, f"{one} and {other} were not paired"
    return match.iloc[0]


def _column(field: str) -> int:
    return next(i for i, c in enumerate(FIELDS) if c.field == field)


@pytest.fixture(scope="module")
def base_with_known_people() -> pd.DataFrame:
    """A 2,000-record synthetic base plus hand-written people whose pairs we know."""
    records = generate_base(2000, seed=7).records
    columns = [
        "record_id",
        "first_name",
        "last_name",
        "emails",
        "phones",
        "date_of_birth",
        "street_number",
        "address_line1",
        "city",
        "postcode",
    ]
    people = [
        ["william", "William", "Okonkwo-Smith", ["w.okonkwo@example.org"], ["+61299990001"],
         "1980-03-04", None, None, "Springfield", "2999"],
        ["bill", "bill", "okonkwo smith", ["W.Okonkwo@example.org"], [], "1980-04-03",
         None, None, "springfield", "2999"],
        ["swapped", "Quentin", "Abernathy", [], ["+61299990002"], "1975-11-20",
         "14", "Wattle Grove", None, "2998"],
        ["swapped-copy", "Abernathy", "Quentin", [], ["+61299990002"], "1975-11-02",
         "14", "wattle grove", None, "2998"],
    ]  # fmt: skip
    extra = pd.DataFrame(people, columns=columns)
    return pd.concat([records, extra], ignore_index=True)


@pytest.fixture(scope="module")
def default_result(base_with_known_people: pd.DataFrame) -> MatchResult:
    return match_records(base_with_known_people)


# --- record frame ----------------------------------------------------------------------


def test_soundex_follows_the_standard_examples() -> None:
    assert [soundex(w) for w in ["robert", "rupert", "ashcraft", "tymczak", "pfister"]] == [
        "r163",
        "r163",
        "a261",
        "t522",
        "p236",
    ]


def test_names_are_cleaned_for_comparison() -> None:
    assert clean_name(" O'Brien-Smith ") == "obrien smith"
    assert clean_name("José") == "jose"
    assert clean_name("123") is None


def test_record_frame_needs_unique_present_ids() -> None:
    with pytest.raises(ValueError, match="record_id"):
        prepare_records(pd.DataFrame({"first_name": ["a"]}))
    with pytest.raises(ValueError, match="unique"):
        prepare_records(pd.DataFrame({"record_id": [1, 1]}))


def test_missing_columns_are_treated_as_missing_values() -> None:
    prepared = prepare_records(pd.DataFrame({"record_id": [1, 2], "last_name": ["Lee", None]}))

    assert prepared.column("first_name").tolist() == [None, None]
    assert prepared.column("last_name_soundex").tolist() == ["l000", None]
    assert prepared.values["emails"].tolist() == [(), ()]


# --- blocking --------------------------------------------------------------------------


def test_pairs_within_blocks_lists_every_pair_once_and_skips_large_blocks() -> None:
    rows = np.arange(7)
    codes = np.array([5, 1, 5, 1, 5, 9, 2])

    left, right, skipped = pairs_within_blocks(rows, codes, max_block_size=3)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [
        (0, 2),
        (0, 4),
        (1, 3),
        (2, 4),
    ]
    assert skipped == 0

    left, _, skipped = pairs_within_blocks(rows, codes, max_block_size=2)
    assert len(left) == 1
    assert skipped == 1


def test_candidate_pairs_union_rules_and_share_list_values() -> None:
    records = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "emails": [["x@e.org", "y@e.org"], ["y@e.org"], [], ["x@e.org", "x@e.org"]],
            "postcode": ["1000", "2000", "1000", None],
        }
    )
    rules = (BlockingRule("email", ("emails",)), BlockingRule("postcode", ("postcode",)))

    candidates = generate_candidate_pairs(prepare_records(records), rules, max_block_size=10)

    by_pair = dict(
        zip(
            zip(candidates.left.tolist(), candidates.right.tolist(), strict=True),
            candidates.rules.tolist(),
            strict=True,
        )
    )
    # Bit 0: shared email (a-b through y, a-d through x, once despite d listing x twice);
    # bit 1: same postcode (a-c).
    assert by_pair == {(0, 1): 1, (0, 2): 2, (0, 3): 1}


def test_blocking_rule_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        BlockingRule("bad", ("shoe_size",))


# --- comparisons -----------------------------------------------------------------------


def test_nicknames_come_from_the_shipped_table() -> None:
    assert are_nicknames("bill", "william")
    assert are_nicknames("peggy", "margaret")
    assert not are_nicknames("bill", "robert")
    assert not are_nicknames("william", "william")


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("1980-03-04", "1980-03-04", "exact match"),
        ("1980-03-04", "1980-04-03", "day and month swapped"),
        ("1980-03-14", "1980-03-41", "transposed digits"),
        ("1980-03-04", "1980-03-05", "one digit different"),
        ("1980-03-04", "1980-11-27", "same year only"),
        ("1980-03-04", "1955-11-27", "different"),
    ],
)
def test_birth_date_levels(left: str, right: str, level: str) -> None:
    prepared = prepare_records(pd.DataFrame({"record_id": [1, 2], "date_of_birth": [left, right]}))

    compared = compare_pairs(prepared, np.array([0]), np.array([1]))

    assert compared.levels[0, _column("date_of_birth")] == _level("date_of_birth", level)


@pytest.mark.parametrize(
    ("left", "right", "first_level", "swapped"),
    [
        (("William", "Smith"), ("Bill", "Smith"), "nickname", False),
        (("Katherine", "Smith"), ("Katherina", "Smith"), "one typo", False),
        (("Smith", "Jonathan"), ("Jonathan", "Smith"), "exact match", True),
        (("J", "Smith"), ("Jonathan", "Smith"), "initial matches", False),
        (("Mary", "Smith"), ("Jonathan", "Smith"), "different", False),
    ],
)
def test_first_name_levels(
    left: tuple[str, str], right: tuple[str, str], first_level: str, swapped: bool
) -> None:
    frame = pd.DataFrame(
        {"record_id": [1, 2], "first_name": [left[0], right[0]], "last_name": [left[1], right[1]]}
    )

    compared = compare_pairs(prepare_records(frame), np.array([0]), np.array([1]))

    assert compared.levels[0, _column("first_name")] == _level("first_name", first_level)
    assert compared.levels[0, _column("last_name")] == _level("last_name", "exact match")
    assert bool(compared.names_swapped[0]) is swapped


def test_missing_values_are_not_compared() -> None:
    frame = pd.DataFrame({"record_id": [1, 2], "first_name": ["Ann", None]})

    compared = compare_pairs(prepare_records(frame), np.array([0]), np.array([1]))

    assert (compared.levels[0] == -1).all()


# --- scoring ---------------------------------------------------------------------------


def test_exact_matches_on_common_names_weigh_less_than_on_rare_ones() -> None:
    # m and u as the model could estimate them: 90% of duplicates share the family name,
    # 1 in 1,000 random pairs do. Other fields are unobserved and weigh nothing.
    def field_model(comparison: Comparison) -> FieldModel:
        if comparison.field == "last_name":
            m, u = np.array([0.9, 0.04, 0.03, 0.03]), np.array([0.001, 0.001, 0.001, 0.997])
            return FieldModel(comparison, m, u, observed=True)
        uniform = np.full(len(comparison.levels), 1 / len(comparison.levels))
        return FieldModel(comparison, uniform, uniform, observed=False)

    model = MatchModel(prior=0.5, fields=tuple(field_model(c) for c in FIELDS))
    column = _column("last_name")
    levels = np.full((3, len(FIELDS)), -1, dtype=np.int8)
    levels[:, column] = 0
    share = np.array([0.02, 0.001, 1e-6], dtype=np.float32)  # smith, average, one of a kind

    weights = model.field_weights(levels, {"last_name": share})[:, column]

    # log2(0.9 / 0.02), log2(0.9 / 0.001), then capped at 3 bits over the average.
    np.testing.assert_allclose(weights, [5.49, 9.81, 12.81], atol=0.01)


def test_partial_agreement_never_counts_against_but_weak_levels_may() -> None:
    birth_date = next(c for c in FIELDS if c.field == "date_of_birth")
    # exact, day/month swapped, transposed, one digit, same year only, different
    m = np.array([0.9, 0.00001, 0.01, 0.01, 0.009, 0.07])
    u = np.array([0.0005, 0.0001, 0.0002, 0.002, 0.0125, 0.9847])

    weights = FieldModel(birth_date, m, u, observed=True).weights

    assert weights[1] == 0.0  # m/u = 0.1 would be -3.3 bits: an agreeing level stays at 0
    assert weights[4] < 0  # "same year only" is a weak level: log2(0.009 / 0.0125)
    assert weights[5] < 0


# --- find_duplicates -------------------------------------------------------------------


def test_known_duplicates_are_found_with_readable_evidence(default_result: MatchResult) -> None:
    pairs = default_result.pairs

    assert list(pairs.columns) == list(RESULT_COLUMNS)
    bill = _pair(pairs, "william", "bill")
    assert bill["score"] > 0.9
    evidence = bill["evidence"]
    assert evidence["first_name"]["level"] in (
        "nickname (william / bill)",
        "nickname (bill / william)",
    )
    assert evidence["first_name"]["weight"] > 0
    # "okonkwo smith" is held by these two records only: a rare name weighs more.
    assert evidence["last_name"]["level"] == "exact match (uncommon name)"
    assert evidence["last_name"]["weight"] > evidence["first_name"]["weight"]
    assert evidence["date_of_birth"]["level"].startswith("day and month swapped")
    assert evidence["email"]["level"] == "shared email address"
    assert evidence["email"]["weight"] > 5
    assert "phone" not in evidence  # bill has no phone: nothing to compare


def test_swapped_names_are_explained(default_result: MatchResult) -> None:
    evidence = _pair(default_result.pairs, "swapped", "swapped-copy")["evidence"]

    assert evidence["first_name"]["level"].startswith("exact match")
    assert evidence["first_name"]["level"].endswith(", first and last names swapped")
    assert evidence["date_of_birth"]["level"].startswith("transposed digits")


def test_decisions_follow_the_thresholds(default_result: MatchResult) -> None:
    config = MatchConfig()
    pairs = default_result.pairs

    assert (pairs["score"] >= config.review_threshold).all()
    assert set(pairs["decision"]) == {"auto", "review"}
    assert (pairs.loc[pairs["decision"] == "auto", "score"] >= config.auto_threshold).all()
    assert pairs["score"].is_monotonic_decreasing


def test_a_different_given_name_needs_review_unless_the_birth_date_is_identical(
    default_result: MatchResult,
) -> None:
    evidence = default_result.pairs["evidence"]
    first_differs = evidence.map(
        lambda e: e.get("first_name", {}).get("level", "").startswith("different")
    )
    same_birth_date = evidence.map(
        lambda e: e.get("date_of_birth", {}).get("level") == "exact match"
    )
    decisions = default_result.pairs["decision"]

    assert (first_differs & ~same_birth_date).any()
    assert (decisions[first_differs & ~same_birth_date] == "review").all()


def test_two_differences_among_names_and_birth_date_always_need_review(
    default_result: MatchResult,
) -> None:
    def differs(evidence: dict[str, dict[str, str]], field: str) -> bool:
        return evidence.get(field, {}).get("level", "").startswith("different")

    two_differences = default_result.pairs["evidence"].map(
        lambda e: (
            differs(e, "first_name") + differs(e, "last_name") + differs(e, "date_of_birth") >= 2
        )
    )

    assert (default_result.pairs.loc[two_differences, "decision"] == "review").all()


def test_another_given_name_and_birth_date_are_two_people(default_result: MatchResult) -> None:
    both_differ = default_result.pairs["evidence"].map(
        lambda e: (
            e.get("first_name", {}).get("level", "").startswith("different")
            and e.get("date_of_birth", {}).get("level", "").startswith("different")
        )
    )

    assert not both_differ.any()


def test_switching_the_guards_off_lets_strong_pairs_through(
    base_with_known_people: pd.DataFrame, default_result: MatchResult
) -> None:
    guarded = default_result.pairs
    unguarded = find_duplicates(
        base_with_known_people,
        MatchConfig(
            review_if_different=frozenset(),
            review_if_several_different=frozenset(),
            reject_if_all_different=frozenset(),
        ),
    )

    assert (unguarded["decision"] == "auto").sum() > (guarded["decision"] == "auto").sum()


def test_run_details_are_reported(default_result: MatchResult) -> None:
    result = default_result

    assert result.candidate_pairs > len(result.pairs)
    assert result.model is not None
    assert 0 < result.model.prior < 1
    assert {session.rule for session in result.model.sessions} >= {"same date of birth"}


def test_tiny_inputs_return_an_empty_frame() -> None:
    for frame in (
        pd.DataFrame({"record_id": []}),
        pd.DataFrame({"record_id": [1], "first_name": ["Ann"]}),
        pd.DataFrame({"record_id": [1, 2], "first_name": ["Ann", "Bob"]}),
    ):
        pairs = find_duplicates(frame)
        assert pairs.empty
        assert list(pairs.columns) == list(RESULT_COLUMNS)


@pytest.mark.parametrize(
    "arguments",
    [
        {"auto_threshold": 0.5, "review_threshold": 0.9},
        {"review_threshold": 0.0},
        {"blocking_rules": ()},
        {"max_block_size": 1},
        {"review_if_different": frozenset({"shoe_size"})},
    ],
)
def test_match_config_rejects_nonsense(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MatchConfig(**arguments)  # type: ignore[arg-type]


# --- clustering ------------------------------------------------------------------------


def test_clusters_are_connected_components_of_strong_pairs() -> None:
    pairs = pd.DataFrame(
        {"left_id": ["a", "b", "x"], "right_id": ["b", "c", "y"], "score": [0.99, 0.98, 0.4]}
    )

    clusters = cluster_pairs(pairs, min_score=0.5, record_ids=["a", "b", "c", "x", "y", "z"])

    assert clusters["a"] == clusters["b"] == clusters["c"]
    assert len({clusters["x"], clusters["y"], clusters["z"], clusters["a"]}) == 4


def test_long_chains_are_cut_at_their_weakest_links() -> None:
    # Two tight groups of three joined by one weaker link: a chain of six.
    pairs = pd.DataFrame(
        {
            "left_id": [1, 2, 1, 4, 5, 4, 3],
            "right_id": [2, 3, 3, 5, 6, 6, 4],
            "score": [0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.95],
        }
    )

    clusters = cluster_pairs(pairs, min_score=0.9, max_cluster_size=3)

    assert clusters[1] == clusters[2] == clusters[3]
    assert clusters[4] == clusters[5] == clusters[6]
    assert clusters[1] != clusters[4]


# --- public surface --------------------------------------------------------------------


def test_exported_names() -> None:
    assert sorted(matching.__all__) == sorted(
        [
            "BLOCKING_KEYS",
            "DEFAULT_BLOCKING_RULES",
            "RECORD_COLUMNS",
            "RESULT_COLUMNS",
            "BlockingRule",
            "MatchConfig",
            "MatchResult",
            "cluster_pairs",
            "find_duplicates",
            "match_records",
        ]
    )
    for name in matching.__all__:
        assert getattr(matching, name) is not None
