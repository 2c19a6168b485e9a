"""Duplicates on the demo workspace: a dry-run scan scored against the planted truth.

Run: ``.venv/bin/python bench/dedup_demo.py`` (``--customers 5000`` for a slice of the
CDNOW customers). The demo is built into a fresh SQLite file (events included, scores not
refreshed: the matcher does not read them), then ``scan_duplicates(dry_run=True)`` (the
function behind ``tenure duplicates scan --dry-run``) decides every pair. Each demo
person carries the ``cdnow_customer_id`` of the customer it stands for, planted
duplicates included, which the matcher never reads: a pair is one customer exactly when
the ids are equal (``tenure.datasets.demo_truth``).

Prints the automatic merges (and how many join two distinct customers), the review pairs
(and their share of the base) and the recall of the planted duplicate pairs.
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
from pathlib import Path

from tenure.config import Settings
from tenure.datasets.demo import build_demo_workspace
from tenure.datasets.demo_truth import demo_truth, score_demo_scan
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory
from tenure.dedup.scan import scan_duplicates
from tenure.registrations import register_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="CDNOW customers to use")
    args = parser.parse_args()
    register_all()  # the demo's events need the pipeline, its staff and tags the registry
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'demo.db'}"
        engine = create_db_engine(url)
        upgrade_database(engine)
        started = time.perf_counter()
        options = {}
        # (The check lets this file measure the demo of older versions too.)
        if args.customers and "size" in inspect.signature(build_demo_workspace).parameters:
            options["size"] = args.customers
        build_demo_workspace(engine=engine, settings=Settings(), **options)
        build_seconds = time.perf_counter() - started
        factory = make_session_factory(engine)
        started = time.perf_counter()
        report = scan_duplicates(session_factory=factory, actor_id=None, dry_run=True)
        scan_seconds = time.perf_counter() - started
        with factory() as session:
            truth = demo_truth(session)
        engine.dispose()
    quality = score_demo_scan(report.pairs, truth, report.people)
    customers = truth.nunique()
    print(f"demo: {customers:,} customers, {report.people:,} people (planted duplicates included)")
    print(f"  built in {build_seconds:.1f} s, dry-run scan in {scan_seconds:.1f} s")
    print(f"  candidate pairs compared   {report.compared_pairs:>9,}")
    print(f"  auto pairs                 {quality.auto_pairs:>9,}")
    print(
        f"  auto merges (closed)       {quality.auto_merges:>9,}"
        f"  wrong: {quality.wrong_auto_merges:,}"
        f"  precision {quality.auto_merge_precision:.4f}"
    )
    print(
        f"  review pairs               {quality.review_pairs:>9,}"
        f"  ({quality.review_share:.2%} of the base)"
    )
    print(
        f"  planted duplicate pairs    {quality.planted_pairs:>9,}"
        f"  found {quality.planted_found:,}  recall {quality.planted_recall:.4f}"
    )


if __name__ == "__main__":
    main()
