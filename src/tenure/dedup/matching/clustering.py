"""Closing duplicate pairs into clusters of records that are one person.

Pairs are edges; clusters are the connected components of the edges at or above a score.
Transitive closure can chain: A~B and B~C put A and C together even if A and C are
different people, and a few weak links can snowball into a giant cluster. The guard: a
component larger than ``max_cluster_size`` is split again using only its stronger edges
(the threshold rises to the component's next distinct edge score) until every piece fits.
On FEBRL no real person has more than 6 records, and in a CRM a person with more than
10 records is far more likely a chain than a person.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    return labels


def _split(
    members: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    score: np.ndarray,
    max_cluster_size: int,
) -> list[np.ndarray]:
    """Components of ``members`` (node ids) over the given edges, each at most the limit."""
    local = {node: index for index, node in enumerate(members.tolist())}
    a = np.array([local[n] for n in left.tolist()], dtype=np.int64)
    b = np.array([local[n] for n in right.tolist()], dtype=np.int64)
    labels = _components(len(members), a, b)
    pieces: list[np.ndarray] = []
    for label in np.unique(labels):
        inside = labels == label
        piece = members[inside]
        if len(piece) <= max_cluster_size:
            pieces.append(piece)
            continue
        edge_inside = inside[a] & inside[b]
        cut = np.min(score[edge_inside])
        stronger = edge_inside & (score > cut)
        if not stronger.any():
            pieces.extend(piece[:, None])  # only equally weak links left: keep records apart
            continue
        pieces.extend(
            _split(piece, left[stronger], right[stronger], score[stronger], max_cluster_size)
        )
    return pieces


def cluster_pairs(
    pairs: pd.DataFrame,
    *,
    min_score: float,
    max_cluster_size: int = 10,
    record_ids: Iterable[object] = (),
) -> pd.Series:
    """Cluster id of every record, from the pairs (``left_id``, ``right_id``, ``score``).

    Only pairs with ``score >= min_score`` link records. Records given in ``record_ids``
    but in no pair get a cluster of their own. Returns a Series indexed by record id whose
    values are cluster numbers 0..k-1, equal for records judged to be one person.
    """
    if max_cluster_size < 2:
        raise ValueError("max_cluster_size must be at least 2")
    strong = pairs[pairs["score"] >= min_score]
    ids = pd.Index(
        pd.unique(
            np.concatenate(
                [
                    strong["left_id"].to_numpy(dtype=object),
                    strong["right_id"].to_numpy(dtype=object),
                    np.asarray(list(record_ids), dtype=object),
                ]
            )
        )
    )
    left = ids.get_indexer(strong["left_id"])
    right = ids.get_indexer(strong["right_id"])
    score = strong["score"].to_numpy(dtype=np.float64)
    nodes = np.arange(len(ids), dtype=np.int64)
    labels = _components(len(ids), left, right)
    cluster = labels.copy()
    sizes = np.bincount(labels) if len(labels) else np.empty(0, dtype=np.int64)
    next_label = len(sizes)
    for label in np.flatnonzero(sizes > max_cluster_size):
        members = nodes[labels == label]
        inside = (labels[left] == label) & (labels[right] == label)
        for piece in _split(members, left[inside], right[inside], score[inside], max_cluster_size):
            cluster[piece] = next_label
            next_label += 1
    _, renumbered = np.unique(cluster, return_inverse=True)
    return pd.Series(renumbered, index=ids, name="cluster")
