"""Probabilistic duplicate matching of people (Fellegi-Sunter, splink-style, on pandas).

Public API:

- :func:`find_duplicates` / :func:`match_records`: pairs of records that are probably the
  same person, with a probability, an "auto"/"review" decision and readable evidence;
- :class:`MatchConfig`, :class:`BlockingRule`, :data:`DEFAULT_BLOCKING_RULES`;
- :data:`RECORD_COLUMNS`: the columns of the record frame (documented in ``records``);
- :func:`cluster_pairs`: closes pairs into clusters with a guard against chaining.

Why not splink itself: splink on DuckDB is the reference this follows (EM training
sessions per blocking rule, u from random pairs, term-frequency adjustments), but it
would add DuckDB, sqlglot and altair to the install and express comparisons as SQL, while
this engine is a pure DataFrame-in / DataFrame-out function that needs nickname tables,
first/last swap detection and evidence sentences for a UI. rapidfuzz's vectorised
``process.cpdist`` gives the string metrics over pair arrays; numpy does the rest. On the
FEBRL and synthetic benchmarks (bench/dedup.py) a 100k base takes about 20-40 s and
under 1 GB on two shared cores.
"""

from tenure.dedup.matching.blocking import BLOCKING_KEYS, DEFAULT_BLOCKING_RULES, BlockingRule
from tenure.dedup.matching.clustering import cluster_pairs
from tenure.dedup.matching.duplicates import (
    RESULT_COLUMNS,
    MatchConfig,
    MatchResult,
    find_duplicates,
    match_records,
)
from tenure.dedup.matching.records import RECORD_COLUMNS

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
