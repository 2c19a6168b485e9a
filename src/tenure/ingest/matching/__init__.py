"""Probabilistic duplicate matching of people (Fellegi-Sunter, splink-style, on pandas).

Public API:

- :func:`find_duplicates` / :func:`match_records`: pairs of records that are probably the
  same person, with a probability, an "auto"/"review" decision and readable evidence;
- :class:`MatchConfig`, :class:`BlockingRule`, :data:`DEFAULT_BLOCKING_RULES`;
- :data:`RECORD_COLUMNS`: the columns of the record frame (documented in ``records``);
- :func:`cluster_pairs`: closes pairs into clusters with a guard against chaining.
"""

from tenure.ingest.matching.blocking import BLOCKING_KEYS, DEFAULT_BLOCKING_RULES, BlockingRule
from tenure.ingest.matching.clustering import cluster_pairs
from tenure.ingest.matching.duplicates import (
    RESULT_COLUMNS,
    MatchConfig,
    MatchResult,
    find_duplicates,
    match_records,
)
from tenure.ingest.matching.records import RECORD_COLUMNS

__all__ = [
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
