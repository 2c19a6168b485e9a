"""Duplicates through the database: FEBRL quality and a 100k-person scan, end to end.

Run: ``.venv/bin/python bench/dedup_base.py`` (``--people 20000`` for a quicker synthetic
run, ``--skip-synthetic`` / ``--skip-febrl`` for one half, ``--postgres URL`` to use a
PostgreSQL server instead of SQLite files; each workload gets a fresh database).

FEBRL: each of dataset1/2/3 is imported into a fresh Tenure database as people through
the CSV importer (the path a customer's file takes; ``rec_id`` goes in as an external id
in namespace ``febrl``, only to score), then ``scan_duplicates(dry_run=True)`` (the
function behind ``tenure duplicates scan --dry-run``) loads the base back with SQL and
runs the matcher. The pairs go through the ``--pairs`` CSV writer, and pairwise precision
and recall are computed from the external ids in that file against rec_id truth, for the
automatic pairs, for automatic plus review pairs, and for "auto merges": every pair
inside each automatic cluster, i.e. what a real scan would make one person. The matcher
alone on the same records (``bench/dedup.py``'s path) is measured in the same run, as the
reference the database path must not fall below.

Synthetic: the matcher's generator (``synthetic.generate_base``) writes a base straight
into the tables with bulk inserts (what an import would have stored), then a dry-run scan
and a real scan (auto-merges and queue) are timed; peak RSS is per child process.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from dedup_truth.febrl import PairQuality, impossible_birth_dates, load_febrl, score_pairs
from dedup_truth.synthetic import generate_base
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import tenure.all_models  # noqa: F401  (an entry point registers every table)
from tenure.datasets.files import febrl_path
from tenure.db.engine import create_db_engine, normalize_database_url
from tenure.db.migrate import upgrade_database
from tenure.db.session import make_session_factory, unit_of_work
from tenure.dedup.frame import load_base
from tenure.dedup.matching import RECORD_COLUMNS, find_duplicates
from tenure.dedup.scan import pairs_table, scan_duplicates
from tenure.ingest.csv_import import path_opener, prepare_csv
from tenure.ingest.runner import declare_text_attributes, run_import
from tenure.registrations import register_all

# Event reactions (stages) as the CLI and the web app register them at start-up.
register_all()

FEBRL_MAPPING = {
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


def import_febrl(session_factory, number: int, *, limit: int | None = None) -> int:
    """FEBRL ``dataset{number}`` imported as people through the CSV importer."""
    path = febrl_path(number)
    opener = path_opener(path)
    if limit is not None:
        head = b"".join(path.read_bytes().splitlines(keepends=True)[: limit + 1])
        opener = lambda: io.BytesIO(head)  # noqa: E731
    with session_factory() as session:
        source = prepare_csv(
            session,
            opener=opener,
            file_name=path.name,
            overrides=FEBRL_MAPPING,
            default_region="AU",
            declare={"street_number", "address_line2"},
        )
    with unit_of_work(session_factory) as session:
        declare_text_attributes(
            session, {"street_number", "address_line2"}, entity="person", actor_id=None
        )
    report = run_import(session_factory=session_factory, source=source, actor_id=None)
    # FEBRL corrupts some birth dates (19339026): the importer refuses those rows, by line.
    assert report.rejected == impossible_birth_dates(number, limit), report.issues[:5]
    return report.created


def febrl_truth(pairs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Entity of each side of the pairs file, read from the febrl external id only."""
    pattern = r"febrl:rec-(\d+)-"
    left = pairs["left_external_ids"].str.extract(pattern, expand=False).astype(int)
    right = pairs["right_external_ids"].str.extract(pattern, expand=False).astype(int)
    return left, right


def pair_quality(pairs: pd.DataFrame, true_pairs: int) -> dict[str, PairQuality]:
    left, right = febrl_truth(pairs)
    correct = (left == right).to_numpy()
    auto = (pairs["decision"] == "auto").to_numpy()
    return {
        "auto": PairQuality(int(correct[auto].sum()), int(auto.sum()), true_pairs),
        "auto+review": PairQuality(int(correct.sum()), len(pairs), true_pairs),
    }


def merged_pairs(pairs: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Every pair of people a real scan would make one (all pairs inside each auto
    cluster, not only the pairs the matcher returned), in the pairs-file shape."""
    auto = pairs[pairs["cluster"] >= 0]
    members = pd.concat(
        [
            auto[["cluster", "left_id"]].rename(columns={"left_id": "person"}),
            auto[["cluster", "right_id"]].rename(columns={"right_id": "person"}),
        ]
    ).drop_duplicates()
    closed = members.merge(members, on="cluster")
    closed = closed[closed["person_x"] < closed["person_y"]]
    return pd.DataFrame(
        {
            "left_external_ids": meta["external_ids"].reindex(closed["person_x"]).to_numpy(),
            "right_external_ids": meta["external_ids"].reindex(closed["person_y"]).to_numpy(),
            "decision": "auto",
        }
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Database:
    """A fresh migrated database: a SQLite file, or a new database on a PostgreSQL server."""

    def __init__(self, postgres: str | None, directory: Path) -> None:
        self.postgres, self.name = postgres, None
        if postgres:
            self.name = f"tenure_bench_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{self.name}"')
            url = make_url(postgres).set(database=self.name).render_as_string(False)
        else:
            url = f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        self.engine = create_db_engine(url)
        upgrade_database(self.engine)
        self.sessions = make_session_factory(self.engine)

    def _admin(self, statement: str) -> None:
        assert self.postgres
        admin = create_engine(normalize_database_url(self.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(statement))
        admin.dispose()

    def close(self) -> None:
        self.engine.dispose()
        if self.name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run_febrl(number: int, postgres: str | None) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(postgres, Path(directory))
        try:
            started = time.perf_counter()
            imported = import_febrl(database.sessions, number)
            import_seconds = time.perf_counter() - started
            with database.sessions() as session:
                frame = load_base(session).records
            # The matcher reads only the record frame: the truth is not in it.
            assert "rec_id" not in frame.columns and set(frame.columns) <= set(RECORD_COLUMNS)
            started = time.perf_counter()
            report = scan_duplicates(session_factory=database.sessions, actor_id=None, dry_run=True)
            scan_seconds = time.perf_counter() - started
            buffer = io.StringIO()
            pairs_table(report).to_csv(buffer, index=False)
            pairs = pd.read_csv(io.StringIO(buffer.getvalue()), dtype={"decision": str})
            merged = merged_pairs(report.pairs, report.meta)
        finally:
            database.close()
    labelled = load_febrl(number)
    true_pairs = int(
        (labelled.entity.value_counts() * (labelled.entity.value_counts() - 1) // 2).sum()
    )
    engine_pairs = find_duplicates(labelled.records)
    engine_auto = engine_pairs[engine_pairs["decision"] == "auto"]
    return {
        "name": f"febrl dataset{number}",
        "people": imported,
        "import_seconds": import_seconds,
        "scan_seconds": scan_seconds,
        "quality": {
            **pair_quality(pairs, true_pairs),
            "auto merges": pair_quality(merged, true_pairs)["auto"],
        },
        "engine": {
            "auto": score_pairs(engine_auto["left_id"], engine_auto["right_id"], labelled.entity),
            "auto+review": score_pairs(
                engine_pairs["left_id"], engine_pairs["right_id"], labelled.entity
            ),
        },
        "peak_rss_mb": _rss_mb(),
    }


def write_synthetic(session_factory, people: int) -> int:
    """The synthetic base written with bulk inserts: people, organizations, identities."""
    from tenure.customers.models import Identity, Organization, Person
    from tenure.db.bulk import insert_rows
    from tenure.db.types import utcnow
    from tenure.ingest.writes import table_of

    records = generate_base(people, seed=0).records
    now = utcnow()
    with unit_of_work(session_factory) as session:
        connection = session.connection()
        names = sorted(records["organization"].dropna().unique())
        org_ids = insert_rows(
            connection,
            table_of(Organization),
            ("name", "attributes", "created_at", "updated_at"),
            [(name, {}, now, now) for name in names],
            return_ids=True,
        )
        org_of = dict(zip(names, org_ids, strict=True))
        keys = {"street_number": "street_number", "address_line1": "street"}
        keys |= {"address_line2": "address_line2", "city": "city", "postcode": "postal_code"}
        keys |= {"region": "region", "country": "country", "date_of_birth": "birthday"}
        rows = []
        for index, record in enumerate(records.to_dict("records")):
            # Spread over the past: who is older decides who survives a merge.
            created = now - timedelta(minutes=len(records) - index)
            attributes = {
                key: record[column]
                for column, key in keys.items()
                if isinstance(record.get(column), str) and record[column]
            }
            organization = record.get("organization")
            first = record["first_name"] if isinstance(record["first_name"], str) else ""
            last = record["last_name"] if isinstance(record["last_name"], str) else ""
            rows.append(
                (
                    first,
                    last,
                    org_of.get(organization) if isinstance(organization, str) else None,
                    attributes,
                    f"{first} {last}".strip().lower(),
                    created,
                    created,
                )
            )
        columns = ("first_name", "last_name", "organization_id", "attributes", "search_text")
        person_ids = insert_rows(
            connection,
            table_of(Person),
            (*columns, "created_at", "updated_at"),
            rows,
            return_ids=True,
        )
        identities = []
        for person_id, record in zip(person_ids, records.to_dict("records"), strict=True):
            identities.append((person_id, "external", "synthetic", str(record["record_id"]), now))
            for kind, values in (("email", record["emails"]), ("phone", record["phones"])):
                for value in values if isinstance(values, list) else []:
                    identities.append((person_id, kind, "", value, now))
        seen: set[tuple[str, str]] = set()
        unique = []
        for row in identities:  # one owner per email, as the importer guarantees
            if row[1] != "phone" and (row[1], row[3]) in seen:
                continue
            seen.add((row[1], row[3]))
            unique.append(row)
        insert_rows(
            connection,
            table_of(Identity),
            ("person_id", "kind", "namespace", "value", "original", "is_primary", "created_at"),
            [(p, k, n, v, v, False, t) for p, k, n, v, t in unique],
        )
    return len(records)


def run_synthetic(people: int, postgres: str | None) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        database = Database(postgres, Path(directory))
        try:
            started = time.perf_counter()
            written = write_synthetic(database.sessions, people)
            write_seconds = time.perf_counter() - started
            start_rss = _rss_mb()
            started = time.perf_counter()
            dry = scan_duplicates(session_factory=database.sessions, actor_id=None, dry_run=True)
            dry_seconds = time.perf_counter() - started
            dry_rss = _rss_mb()
            quality = synthetic_quality(dry, people)
            started = time.perf_counter()
            real = scan_duplicates(session_factory=database.sessions, actor_id=None)
            real_seconds = time.perf_counter() - started
        finally:
            database.close()
    return {
        "name": f"synthetic {people:,}",
        "people": written,
        "write_seconds": write_seconds,
        "dry_seconds": dry_seconds,
        "dry_steps": dry.seconds,
        "real_seconds": real_seconds,
        "real_steps": real.seconds,
        "auto": real.auto_pairs,
        "review": real.review_pairs,
        "merged": real.merged,
        "queued": real.queued,
        "quality": quality,
        "start_rss_mb": start_rss,
        "dry_rss_mb": dry_rss,
        "peak_rss_mb": _rss_mb(),
    }


def synthetic_quality(report, people: int) -> dict[str, PairQuality]:
    """Pair quality of a dry run on the synthetic base, from its external ids."""
    entity = generate_base(people, seed=0).entity
    pairs = pairs_table(report)
    left = pairs["left_external_ids"].str.extract(r"synthetic:(\d+)", expand=False).astype(int)
    right = pairs["right_external_ids"].str.extract(r"synthetic:(\d+)", expand=False).astype(int)
    correct = entity.reindex(left).to_numpy() == entity.reindex(right).to_numpy()
    auto = (pairs["decision"] == "auto").to_numpy()
    sizes = entity.value_counts().to_numpy()
    true_pairs = int((sizes * (sizes - 1) // 2).sum())
    return {
        "auto": PairQuality(int(correct[auto].sum()), int(auto.sum()), true_pairs),
        "auto+review": PairQuality(int(correct.sum()), len(pairs), true_pairs),
    }


def _run(job: tuple[str, int, str | None]) -> dict:
    kind, size, postgres = job
    return run_febrl(size, postgres) if kind == "febrl" else run_synthetic(size, postgres)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite files)")
    arguments = parser.parse_args()
    jobs: list[tuple[str, int, str | None]] = []
    if not arguments.skip_febrl:
        jobs += [("febrl", n, arguments.postgres) for n in (1, 2, 3)]
    if not arguments.skip_synthetic:
        jobs.append(("synthetic", arguments.people, arguments.postgres))
    context = multiprocessing.get_context("spawn")
    backend = "PostgreSQL" if arguments.postgres else "SQLite"
    for job in jobs:
        # A fresh process per workload: ru_maxrss is a high-water mark for the process.
        with context.Pool(1) as pool:
            figures = pool.apply(_run, (job,))
        print(f"\n== {figures['name']} ({backend}): {figures['people']:,} people ==")
        if job[0] == "febrl":
            for label, quality in figures["quality"].items():
                print(f"  database path {label:<12} {quality}")
                engine = figures["engine"].get(label)
                if engine is None:
                    continue
                print(f"  engine alone  {label:<12} {engine}")
                ratio = quality.recall / engine.recall if engine.recall else float("nan")
                print(f"    recall ratio database/engine {ratio:.4f}")
            print(
                f"  import {figures['import_seconds']:.1f} s, dry-run scan"
                f" {figures['scan_seconds']:.1f} s, peak RSS {figures['peak_rss_mb']:.0f} MB"
            )
        else:
            print(
                f"  written in {figures['write_seconds']:.1f} s; dry-run scan"
                f" {figures['dry_seconds']:.1f} s {figures['dry_steps']}"
            )
            print(
                f"  real scan {figures['real_seconds']:.1f} s {figures['real_steps']}:"
                f" {figures['auto']:,} auto pairs -> {figures['merged']:,} merges,"
                f" {figures['review']:,} review pairs -> {figures['queued']:,} queued"
            )
            for label, quality in figures["quality"].items():
                print(f"  dry run {label:<12} {quality}")
            print(
                f"  peak RSS: {figures['start_rss_mb']:.0f} MB after writing the base,"
                f" {figures['dry_rss_mb']:.0f} MB after the dry run,"
                f" {figures['peak_rss_mb']:.0f} MB overall"
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
