"""Paths to the public data sets shipped inside the package (see PROVENANCE.md)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

DATASETS_DIR = Path(__file__).resolve().parent

CDNOW_SAMPLE = DATASETS_DIR / "cdnow" / "CDNOW_sample.txt"
CDNOW_MASTER = DATASETS_DIR / "cdnow" / "CDNOW_master.txt.gz"
TELCO_CHURN = DATASETS_DIR / "churn" / "telco_churn.csv"
FEBRL_DIR = DATASETS_DIR / "febrl"


def febrl_path(number: int) -> Path:
    """Path of FEBRL ``dataset{number}.csv`` (1, 2 or 3)."""
    return FEBRL_DIR / f"dataset{number}.csv"


def open_cdnow_master() -> io.TextIOWrapper:
    """Open the CDNOW master purchase log (stored gzipped) as text."""
    return io.TextIOWrapper(gzip.open(CDNOW_MASTER, "rb"), encoding="ascii")
