"""Fitting the match model without labels: one EM training session per blocking rule.

EM run once on all candidate pairs can lock onto the wrong two groups. On a 20k synthetic
base the pairs from "same postcode" far outnumber true duplicates and all agree on
postcode, which random pairs almost never do; with u fixed, EM then explained *every*
candidate as a match (prior -> 1) and auto-merged 300k pairs. splink's remedy, used here:
train on each rule's pairs separately and leave out the fields that rule forces (or
nearly forces) to agree, so that within a session the non-matches look like random pairs
on the fields being estimated. Each field's m is the average over the sessions that
estimated it, weighted by their expected number of matches; the prior for the scored
candidate set is then fitted with m and u both fixed.
"""

from __future__ import annotations

import numpy as np

from tenure.dedup.matching.blocking import BlockingRule
from tenure.dedup.matching.comparisons import FIELDS
from tenure.dedup.matching.scoring import (
    FieldModel,
    MatchModel,
    TrainingSession,
    comparison_patterns,
    expectation_maximisation,
    initial_m,
)

_NAMES = frozenset({"first_name", "last_name"})
_LOCATION = frozenset({"location"})
# Neighbours share street names, so a rule on a place also makes addresses agree.
_ADDRESS = frozenset({"street_number", "address"})
FIELDS_FORCED_BY_KEY: dict[str, frozenset[str]] = {
    "first_name": _NAMES,
    "last_name": _NAMES,
    "last_name_soundex": _NAMES,
    "first_name_soundex": _NAMES,
    "first_initial": _NAMES,
    "last_initial": _NAMES,
    "name_soundex_pair": _NAMES,
    "date_of_birth": frozenset({"date_of_birth"}),
    "birth_year": frozenset({"date_of_birth"}),
    "postcode": _LOCATION | _ADDRESS,
    "city": _LOCATION | _ADDRESS,
    "region": _LOCATION | _ADDRESS,
    "country": _LOCATION | _ADDRESS,
    "street_number": _ADDRESS,
    "address_line1": _LOCATION | _ADDRESS,
    "address_line2": _LOCATION | _ADDRESS,
    "emails": frozenset({"email"}),
    "phones": frozenset({"phone"}),
    "external_ids": frozenset({"external_id"}),
    "organization": frozenset({"organization"}),
}
# Below this many pairs a session's estimates are noise; its rule is still used to score.
_MIN_SESSION_PAIRS = 30
_SESSION_START_PRIOR = 0.1


def _forced_fields(rule: BlockingRule) -> frozenset[str]:
    forced: frozenset[str] = frozenset()
    for key in rule.keys:
        forced |= FIELDS_FORCED_BY_KEY[key]
    return forced


def train_model(
    levels: np.ndarray,
    rule_membership: np.ndarray,
    rules: tuple[BlockingRule, ...],
    u: list[np.ndarray],
    *,
    max_iterations: int,
) -> MatchModel:
    """Estimate m per field by per-rule EM sessions, then the prior of the candidates.

    Pairs ruled out by the guards are kept in training on purpose: leaving them out
    (tried) removes non-matches that look like random pairs on name and birth date, and
    EM then takes the remaining non-matches for matches (FEBRL3 review precision at 0.9
    fell from 0.993 to 0.983).
    """
    field_names = [comparison.field for comparison in FIELDS]
    observed = np.asarray((levels >= 0).any(axis=0), dtype=bool)
    m_sum = [np.zeros(len(comparison.levels)) for comparison in FIELDS]
    m_weight = np.zeros(len(FIELDS))
    sessions: list[TrainingSession] = []
    for index, rule in enumerate(rules):
        in_rule = (rule_membership & np.uint32(1 << index)) != 0
        if np.count_nonzero(in_rule) < _MIN_SESSION_PAIRS:
            continue
        forced = _forced_fields(rule)
        trained = np.array([name not in forced for name in field_names], dtype=bool) & (
            levels[in_rule] >= 0
        ).any(axis=0)
        if not trained.any():
            continue
        session_levels = levels[in_rule].copy()
        session_levels[:, ~trained] = -1
        patterns, counts = comparison_patterns(session_levels)
        outcome = expectation_maximisation(
            patterns,
            counts,
            u,
            [initial_m(len(comparison.levels), comparison) for comparison in FIELDS],
            _SESSION_START_PRIOR,
            update_m=True,
            max_iterations=max_iterations,
        )
        for column in np.flatnonzero(trained):
            m_sum[column] += outcome.expected_matches * outcome.m[column]
            m_weight[column] += outcome.expected_matches
        sessions.append(
            TrainingSession(
                rule=rule.name,
                pairs=int(np.count_nonzero(in_rule)),
                expected_matches=outcome.expected_matches,
                trained_fields=tuple(np.asarray(field_names)[trained].tolist()),
                iterations=outcome.iterations,
            )
        )

    untrained = observed & (m_weight <= 0)
    if untrained.any():
        # A field no session could estimate (every rule forces it): fall back to EM over
        # all candidates for it, which is biased but better than the starting guess.
        patterns, counts = comparison_patterns(levels)
        fallback = expectation_maximisation(
            patterns,
            counts,
            u,
            [initial_m(len(comparison.levels), comparison) for comparison in FIELDS],
            _SESSION_START_PRIOR,
            update_m=True,
            max_iterations=max_iterations,
        )
        for column in np.flatnonzero(untrained):
            m_sum[column] = fallback.m[column]
            m_weight[column] = 1.0
    m = [
        m_sum[column] / m_weight[column]
        if m_weight[column] > 0
        else initial_m(len(FIELDS[column].levels), FIELDS[column])
        for column in range(len(FIELDS))
    ]
    patterns, counts = comparison_patterns(levels)
    fitted = expectation_maximisation(
        patterns, counts, u, m, _SESSION_START_PRIOR, update_m=False, max_iterations=max_iterations
    )
    fields = tuple(
        FieldModel(comparison=comparison, m=m[k], u=u[k], observed=bool(observed[k]))
        for k, comparison in enumerate(FIELDS)
    )
    return MatchModel(prior=fitted.prior, fields=fields, sessions=tuple(sessions))
