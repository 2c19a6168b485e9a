"""FEBRL dataset1 through the same path as the customer base: CSV import, SQL, scan.

The 1,000 records go in through the CSV importer (rec_id kept as an external id in
namespace ``febrl``, used only to score), the scan reads them back from the tables, and
the pairs of a dry run are scored against rec_id truth. Floors are those of the matcher
alone on the same file (tests/dedup/test_febrl_quality.py): this path must not lose
quality to how the importer stores names, birth dates or addresses.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from bench.dedup_truth.febrl import (
    PairQuality,
    count_true_pairs,
    impossible_birth_dates,
    load_febrl,
)
from tenure.datasets.files import febrl_path
from tenure.db.session import unit_of_work
from tenure.dedup.frame import load_base
from tenure.dedup.matching import RECORD_COLUMNS
from tenure.dedup.scan import pairs_table, scan_duplicates
from tenure.ingest.csv_import import path_opener, prepare_csv
from tenure.ingest.runner import declare_text_attributes, run_import

MAPPING = {
    "rec_id": "external:febrl",
    "given_name": "first_name",
    "surname": "last_name",
    "street_number": "attribute:street_number",
    "address_1": "street",
    "address_2": "attribute:address_line2",
    "suburb": "city",
    "postcode": "postal_code",
    "state": "region",
    "date_of_birth": "birthday",
    "soc_sec_id": "ignore",
}


def import_febrl(session_factory: sessionmaker[Session], number: int) -> int:
    declared = {"street_number", "address_line2"}
    with unit_of_work(session_factory) as session:
        source = prepare_csv(
            session,
            opener=path_opener(febrl_path(number)),
            file_name=f"dataset{number}.csv",
            overrides=MAPPING,
            default_region="AU",
            declare=declared,
        )
        declare_text_attributes(session, declared, entity="person", actor_id=None)
    report = run_import(session_factory=session_factory, source=source, actor_id=None)
    # FEBRL's corrupted birth dates (19339026) are refused with their line; nothing else is.
    assert report.rejected == impossible_birth_dates(number)
    return report.created


def test_febrl_dataset1_through_the_database_keeps_the_matchers_quality(session_factory):
    assert import_febrl(session_factory, 1) == 1000 - impossible_birth_dates(1)
    with session_factory() as session:
        frame = load_base(session).records
    assert "rec_id" not in frame.columns and list(frame.columns) == list(RECORD_COLUMNS)
    assert not frame.isin(["rec-0-org"]).any().any()  # no truth in any value either

    report = scan_duplicates(session_factory=session_factory, actor_id=None, dry_run=True)
    written = io.StringIO()
    pairs_table(report).to_csv(written, index=False)
    pairs = pd.read_csv(io.StringIO(written.getvalue()))

    pattern = r"febrl:rec-(\d+)-"
    left = pairs["left_external_ids"].str.extract(pattern, expand=False)
    right = pairs["right_external_ids"].str.extract(pattern, expand=False)
    correct = (left == right).to_numpy()
    auto = (pairs["decision"] == "auto").to_numpy()
    true_pairs = count_true_pairs(load_febrl(1).entity)
    auto_quality = PairQuality(int(correct[auto].sum()), int(auto.sum()), true_pairs)
    all_quality = PairQuality(int(correct.sum()), len(pairs), true_pairs)
    assert auto_quality.precision >= 0.995, str(auto_quality)
    assert all_quality.precision >= 0.98, str(all_quality)
    assert all_quality.recall >= 0.98, str(all_quality)
