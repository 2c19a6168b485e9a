"""Finding probable duplicate people in a record frame: the matcher's entry point.

    pairs = find_duplicates(records)          # records: a record frame, see records.py

returns one row per probable duplicate pair with its match probability, a decision
("auto": merge without asking, "review": ask a person) and the per-field evidence.
It reads and writes no database: the caller loads people into a record frame and turns
the rows into merges and review items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tenure.dedup.matching.blocking import (
    DEFAULT_BLOCKING_RULES,
    BlockingRule,
    generate_candidate_pairs,
)
from tenure.dedup.matching.comparisons import FIELDS, ComparedPairs, compare_pairs
from tenure.dedup.matching.records import PreparedRecords, prepare_records
from tenure.dedup.matching.scoring import MatchModel, estimate_u, match_probability
from tenure.dedup.matching.training import train_model

RESULT_COLUMNS = ("left_id", "right_id", "score", "decision", "evidence")


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds and blocking of the duplicate matcher.

    The default thresholds were chosen on FEBRL dataset3 (see bench/dedup.py): at 0.999
    the automatic merges were all correct there, and true pairs score near 1 while false
    ones spread over the whole range, so a review band from 0.9 loses almost no recall.
    ``max_block_size`` bounds the cost of a rule whose key is shared
    by very many records (a postcode with 5,000 customers would alone give 12.5M pairs):
    such a block is skipped for that rule and reported in ``MatchResult.skipped_blocks``.

    Two guards stand on top of the probability, because relatives share a family name,
    an address and often a phone, and the model (which treats fields as independent) adds
    those up as strong evidence:

    - a pair that is "different" on a field of ``review_if_different`` is not merged
      automatically, only proposed for review, unless a field of
      ``difference_excused_by_identical`` is an exact match (a different given name with
      the same birth date is usually a typo or a second given name; with another birth
      date, or none, it is as likely a sibling or a spouse). A different family name
      alone is no obstacle (people marry), but two differences among
      ``review_if_several_different`` always need a person: on the 100k synthetic base
      strangers in one suburb who shared a birthday were otherwise auto-merged;
    - a pair "different" on every field of ``reject_if_all_different`` (another given
      name *and* another birth date) is two people and is not returned. On FEBRL
      dataset3 this drops 42 of the 6,538 true pairs; on the synthetic base it removes
      most household false alarms.

    And one guard that no setting switches off: a pair that conflicts on a strong
    identifier (two distinct personal email addresses or mobile numbers with no
    identifier in common, or two ids in a one-record-per-person namespace; see
    ``identifiers.py``) is never merged automatically, whatever its probability.

    Empty sets switch a guard off.
    """

    auto_threshold: float = 0.999
    review_threshold: float = 0.9
    review_if_different: frozenset[str] = frozenset({"first_name", "date_of_birth"})
    difference_excused_by_identical: frozenset[str] = frozenset({"date_of_birth"})
    review_if_several_different: frozenset[str] = frozenset(
        {"first_name", "last_name", "date_of_birth"}
    )
    reject_if_all_different: frozenset[str] = frozenset({"first_name", "date_of_birth"})
    reject_if_different_and_conflicting: frozenset[str] = frozenset({"first_name", "last_name"})
    reject_if_all_different_unexcused: frozenset[str] = frozenset({"first_name", "last_name"})
    reject_if_only_names_agree: bool = True
    blocking_rules: tuple[BlockingRule, ...] = DEFAULT_BLOCKING_RULES
    max_block_size: int = 1000
    u_sample_pairs: int = 300_000
    em_max_iterations: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        known = {comparison.field for comparison in FIELDS}
        named = (
            self.review_if_different
            | self.difference_excused_by_identical
            | self.review_if_several_different
            | self.reject_if_all_different
            | self.reject_if_different_and_conflicting
            | self.reject_if_all_different_unexcused
        )
        unknown = named - known
        if unknown:
            raise ValueError(f"unknown compared fields {sorted(unknown)}; known: {sorted(known)}")
        if not 0.0 < self.review_threshold <= self.auto_threshold <= 1.0:
            raise ValueError("thresholds must satisfy 0 < review_threshold <= auto_threshold <= 1")
        if not self.blocking_rules:
            raise ValueError("at least one blocking rule is needed")
        if self.max_block_size < 2:
            raise ValueError("max_block_size must be at least 2")


@dataclass(frozen=True)
class MatchResult:
    """The returned pairs plus what a caller may want to log or show about the run."""

    pairs: pd.DataFrame
    model: MatchModel | None
    candidate_pairs: int
    skipped_blocks: dict[str, int] = field(default_factory=dict)


def _empty_result() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in RESULT_COLUMNS}).astype(
        {"score": np.float64}
    )


def _shown_values(
    prepared: PreparedRecords, columns: tuple[str, ...], rows: np.ndarray
) -> list[str]:
    """Human-readable value(s) of a compared field for the given rows."""
    if columns == ("date_of_birth",):
        digits = prepared.column("date_of_birth")[rows]
        return [f"{d[:4]}-{d[4:6]}-{d[6:]}" if d else "" for d in digits]
    parts = [prepared.column(column)[rows] for column in columns]
    return [
        " ".join(p for p in values if isinstance(p, str)) for values in zip(*parts, strict=True)
    ]


def _evidence(
    prepared: PreparedRecords,
    compared: ComparedPairs,
    model: MatchModel,
    selected: np.ndarray,
) -> list[dict[str, dict[str, object]]]:
    """Per pair: {field: {"level": words, "weight": bits}} for every comparable field."""
    chosen = compared.subset(selected)
    levels, left, right, swapped = chosen.levels, chosen.left, chosen.right, chosen.names_swapped
    weights = model.field_weights(levels, chosen.exact_value_share)
    frequency_adjustment = weights - model.field_weights(levels)
    evidence: list[dict[str, dict[str, object]]] = [{} for _ in range(len(left))]
    for column, comparison in enumerate(FIELDS):
        present = np.flatnonzero(levels[:, column] >= 0)
        if len(present) == 0:
            continue
        left_values = _shown_values(prepared, comparison.shown_columns, left[present])
        right_values = _shown_values(prepared, comparison.shown_columns, right[present])
        if comparison.field in ("first_name", "last_name"):
            other = "last_name" if comparison.field == "first_name" else "first_name"
            crossed = _shown_values(prepared, (other,), right[present])
            right_values = [
                c if swapped[p] else r
                for p, c, r in zip(present, crossed, right_values, strict=True)
            ]
        for p, a, b in zip(present, left_values, right_values, strict=True):
            level = int(levels[p, column])
            words = comparison.levels[level].format(left=a, right=b)
            if frequency_adjustment[p, column] <= -1.0:
                words += " (common name)"
            elif frequency_adjustment[p, column] >= 1.0:
                words += " (uncommon name)"
            if swapped[p] and comparison.field in ("first_name", "last_name"):
                words += ", first and last names swapped"
            evidence[p][comparison.field] = {
                "level": words,
                "weight": round(float(weights[p, column]), 2),
            }
    return evidence


def _is_different(compared: ComparedPairs, field: str) -> np.ndarray:
    column = next(k for k, comparison in enumerate(FIELDS) if comparison.field == field)
    return FIELDS[column].is_different(compared.levels[:, column])


def _conflicts(compared: ComparedPairs) -> np.ndarray:
    """Per pair, bit k set when it conflicts on the strong identifier FIELDS[k]."""
    bits = np.zeros(len(compared.left), dtype=np.int64)
    for column, comparison in enumerate(FIELDS):
        if comparison.conflict_levels:
            hit = np.isin(compared.levels[:, column], list(comparison.conflict_levels))
            bits |= hit.astype(np.int64) << column
    return bits


def _is_identical(compared: ComparedPairs, field: str) -> np.ndarray:
    column = next(k for k, comparison in enumerate(FIELDS) if comparison.field == field)
    return compared.levels[:, column] == 0


def _needs_review(compared: ComparedPairs, config: MatchConfig) -> np.ndarray:
    """Pairs that the "different given name / birth date" guards keep from auto-merging."""
    count = len(compared.left)
    excused = np.zeros(count, dtype=bool)
    for field_name in config.difference_excused_by_identical:
        excused |= _is_identical(compared, field_name)
    unexcused = np.zeros(count, dtype=bool)
    for field_name in config.review_if_different:
        unexcused |= _is_different(compared, field_name) & ~excused
    differences = np.zeros(count, dtype=np.int64)
    for field_name in config.review_if_several_different:
        differences += _is_different(compared, field_name)
    return unexcused | (differences >= 2)


_CONFLICT_WORDS = {
    "email": "different email addresses",
    "phone": "different phone numbers",
    "external_id": "different customer ids in a one-record-per-person namespace",
}


def _decision_words(
    probability: float, conflicts: int, needs_review: bool, config: MatchConfig
) -> str:
    """Why the matcher advised what it did, in words for the pair page."""
    if conflicts:
        named = [
            _CONFLICT_WORDS.get(comparison.field, comparison.field)
            for column, comparison in enumerate(FIELDS)
            if conflicts & (1 << column)
        ]
        return (
            "review, never merged automatically: "
            + " and ".join(named)
            + " are strong evidence of two people"
        )
    if needs_review:
        return (
            "review: a different given name or birth date (not excused by an identical "
            "birth date) needs a person's eye, whatever the score"
        )
    if probability >= config.auto_threshold:
        return (
            f"merge automatically: probability {probability:.4f} is at least "
            f"{config.auto_threshold} and no identifier conflicts"
        )
    return (
        f"review: probability {probability:.4f} is below the {config.auto_threshold} "
        "needed to merge automatically"
    )


def _agrees_beyond_names(compared: ComparedPairs, model: MatchModel) -> np.ndarray:
    """Pairs with evidence for a match on a field other than names: a positive weight at
    a level that is not a near miss (the same birth year alone is not agreement)."""
    weights = model.field_weights(compared.levels)
    agrees = np.zeros(len(compared.left), dtype=bool)
    for column, comparison in enumerate(FIELDS):
        if comparison.field in ("first_name", "last_name"):
            continue
        level = compared.levels[:, column]
        near_miss = np.isin(level, list(comparison.weak_levels))
        agrees |= (weights[:, column] > 0) & ~near_miss
    return agrees


def _ruled_out(compared: ComparedPairs, fields: frozenset[str]) -> np.ndarray:
    """Pairs "different" on every one of ``fields`` (none when ``fields`` is empty)."""
    ruled_out = np.full(len(compared.left), bool(fields))
    for guarded in fields:
        ruled_out &= _is_different(compared, guarded)
    return ruled_out


def match_records(records: pd.DataFrame, config: MatchConfig = MatchConfig()) -> MatchResult:
    """Block, compare, fit the Fellegi-Sunter model on this data and score the pairs."""
    prepared = prepare_records(records)
    if len(prepared) < 2:
        return MatchResult(pairs=_empty_result(), model=None, candidate_pairs=0)
    candidates = generate_candidate_pairs(
        prepared, config.blocking_rules, max_block_size=config.max_block_size
    )
    if len(candidates) == 0:
        return MatchResult(
            pairs=_empty_result(),
            model=None,
            candidate_pairs=0,
            skipped_blocks=candidates.skipped_blocks,
        )
    compared = compare_pairs(prepared, candidates.left, candidates.right)
    needs_review = _needs_review(compared, config)
    ruled_out = _ruled_out(compared, config.reject_if_all_different)
    u = estimate_u(prepared, config.u_sample_pairs, config.seed)
    model = train_model(
        compared.levels,
        candidates.rules,
        config.blocking_rules,
        u,
        max_iterations=config.em_max_iterations,
    )
    probability = match_probability(model.match_weight(compared.levels, compared.exact_value_share))

    conflicts = _conflicts(compared)
    for field_name in config.reject_if_different_and_conflicting:
        ruled_out |= _is_different(compared, field_name) & (conflicts != 0)
    if config.reject_if_all_different_unexcused:
        excused = np.zeros(len(compared.left), dtype=bool)
        for field_name in config.difference_excused_by_identical:
            excused |= _is_identical(compared, field_name)
        ruled_out |= _ruled_out(compared, config.reject_if_all_different_unexcused) & ~excused
    if config.reject_if_only_names_agree:
        # Namesakes: nothing but the name in common (with an identifier conflicting, or
        # not known on one side): "Richard Gray" and "Richadr Gray" are as likely two.
        ruled_out |= ~_agrees_beyond_names(compared, model)
    selected = np.flatnonzero((probability >= config.review_threshold) & ~ruled_out)
    selected = selected[np.argsort(-probability[selected], kind="stable")]
    scores = probability[selected]
    automatic = (scores >= config.auto_threshold) & ~needs_review[selected]
    automatic &= conflicts[selected] == 0
    evidence = _evidence(prepared, compared, model, selected)
    for row, pair in enumerate(selected.tolist()):
        evidence[row]["decision"] = {
            "level": _decision_words(
                float(probability[pair]), int(conflicts[pair]), bool(needs_review[pair]), config
            ),
            "weight": 0.0,
            "conflict": bool(conflicts[pair]),
        }
    pairs = pd.DataFrame(
        {
            "left_id": prepared.record_ids[compared.left[selected]],
            "right_id": prepared.record_ids[compared.right[selected]],
            "score": scores,
            "decision": np.where(automatic, "auto", "review"),
            "evidence": evidence,
        }
    )
    return MatchResult(
        pairs=pairs if len(pairs) else _empty_result(),
        model=model,
        candidate_pairs=len(candidates),
        skipped_blocks=candidates.skipped_blocks,
    )


def find_duplicates(records: pd.DataFrame, config: MatchConfig = MatchConfig()) -> pd.DataFrame:
    """Probable duplicate pairs of a record frame, most probable first.

    Columns: ``left_id``, ``right_id`` (record ids), ``score`` (the model's match
    probability 0..1 for a candidate pair), ``decision`` ("auto" at or above
    ``config.auto_threshold`` when no guard of ``MatchConfig`` objects, else "review") and
    ``evidence`` (dict field -> {"level": words for a person, "weight": bits of evidence,
    positive for, negative against}; fields missing on either side are left out; the
    entry "decision" says in words why the pair is "auto" or "review", weight 0, and
    "conflict": whether it conflicts on a strong identifier). Pairs
    below ``config.review_threshold`` or ruled out by ``reject_if_all_different`` are
    omitted.
    """
    return match_records(records, config).pairs
