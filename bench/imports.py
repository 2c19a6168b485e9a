"""Import and export benchmarks: figures and ratios measured in the same run.

    python bench/imports.py --rows 1000000        # the brief's size
    python bench/imports.py --rows 100000         # quicker

1. Import N contacts from CSV with normalization (email validation, E.164 phones, ISO
   countries, name recasing, matching) through ``run_import`` on SQLite, against raw
   ``sqlite3`` executemany of the same rows already normalized (people + identities).
2. The same on PostgreSQL against COPY of the normalized rows, when
   TENURE_BENCH_POSTGRES_URL is set.
3. Peak memory of the import at N/4 and N rows (flat means the same).
4. Export of the N people to CSV and Parquet: time and peak memory.

Each import runs in a child process so that its peak RSS (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

COUNTRIES = ("Germany", "FR", "United Kingdom", "USA", "Deutschland", "Japan", "Brasil", "IT")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w") as handle:
        handle.write("Email,First Name,Last Name,Phone,Company,Country\n")
        for n in range(rows):
            handle.write(
                f"Person.{n}@Example{n % 97}.com,first{n % 5000},LAST{n % 7919},"
                f"+1 202 {200 + n // 10_000 % 800:03d} {n % 10_000:04d},Company {n % 2000},"
                f"{COUNTRIES[n % len(COUNTRIES)]}\n"
            )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_import(url: str, path: str, queue: multiprocessing.Queue) -> None:
    from tenure.db.engine import create_db_engine
    from tenure.db.session import make_session_factory, unit_of_work
    from tenure.ingest.csv_import import path_opener, prepare_csv
    from tenure.ingest.runner import run_import

    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        source = prepare_csv(
            session, opener=path_opener(path), file_name=Path(path).name, default_region="US"
        )
    report = run_import(session_factory=factory, source=source, actor_id=None)
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mb": _peak_mb(), "counts": report.counts()})


def _child_export(url: str, fmt: str, out: str, queue: multiprocessing.Queue) -> None:
    from tenure.db.engine import create_db_engine
    from tenure.db.session import make_session_factory
    from tenure.exports.streaming import export_people

    factory = make_session_factory(create_db_engine(url))
    start = time.perf_counter()
    size = 0
    with open(out, "wb") as handle:
        for chunk in export_people(factory, format=fmt):
            handle.write(chunk)
            size += len(chunk)
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(), "bytes": size})


def in_child(target, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def normalized_rows(path: Path) -> tuple[list[tuple], list[tuple], dict[str, float]]:
    """The rows the import writes, normalized ahead (outside the timed baseline), and the
    seconds spent normalizing them: all of it, and phones (phonenumbers) alone."""
    import csv

    from tenure.customers.normalize import normalize_email, normalize_phone, recase_name
    from tenure.ingest.drafts import _country

    people, identities = [], []
    phones = 0.0
    start = time.perf_counter()
    with path.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        for n, (email, first, last, phone, _company, country) in enumerate(reader, start=1):
            e = normalize_email(email).match_key
            before = time.perf_counter()
            p = normalize_phone(phone, "US").e164
            phones += time.perf_counter() - before
            first, last = recase_name(first), recase_name(last)
            attrs = json.dumps({"country": _country(country), "country_original": country})
            people.append((first, last, attrs, f"{first} {last} {e} {p}".lower()))
            identities.append((n, "email", "", e, email, 1))
            identities.append((n, "phone", "", p, phone, 1))
    seconds = {"normalize": time.perf_counter() - start, "phones": phones}
    return people, identities, seconds


def fresh_sqlite(tmp: Path) -> str:
    from tenure.db.engine import create_db_engine
    from tenure.db.migrate import upgrade_database

    url = f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"
    engine = create_db_engine(url)
    upgrade_database(engine)
    engine.dispose()
    return url


def sqlite_baseline(url: str, people: list[tuple], identities: list[tuple]) -> float:
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    now = "2026-01-01 00:00:00.000000"
    start = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO people (first_name, last_name, attributes, search_text, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(*row, now, now) for row in people],
    )
    db.executemany(
        "INSERT INTO identities (person_id, kind, namespace, value, original, is_primary,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*row, now) for row in identities],
    )
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def postgres_baseline(url: str, people: list[tuple], identities: list[tuple]) -> float:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        start = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(
                "COPY people (first_name, last_name, attributes, search_text, created_at,"
                " updated_at) FROM STDIN"
            ) as copy:
                for row in people:
                    copy.write_row((*row, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
            first = cur.execute("SELECT min(id) FROM people").fetchone()[0]
            with cur.copy(
                "COPY identities (person_id, kind, namespace, value, original, is_primary,"
                " created_at) FROM STDIN"
            ) as copy:
                for row in identities:
                    copy.write_row(
                        (row[0] + first - 1, *row[1:5], bool(row[5]), "2026-01-01T00:00:00Z")
                    )
        conn.commit()
        return time.perf_counter() - start


def fresh_postgres(admin_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tenure.db.engine import create_db_engine, normalize_database_url
    from tenure.db.migrate import upgrade_database

    name = f"tenure_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalize_database_url(admin_url)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = create_db_engine(rendered)
    upgrade_database(engine)
    engine.dispose()
    return rendered, name


def drop_postgres(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    from tenure.db.engine import normalize_database_url

    admin = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-export", action="store_true", help="skip the export figures")
    args = parser.parse_args()
    rows = args.rows
    pg_admin = os.environ.get("TENURE_BENCH_POSTGRES_URL")
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        big, small = tmp / "contacts.csv", tmp / "contacts-quarter.csv"
        write_csv(big, rows)
        write_csv(small, rows // 4)
        print(f"CSV: {rows:,} rows, {big.stat().st_size / 2**20:.0f} MB")

        url = fresh_sqlite(tmp)
        ours = in_child(_child_import, url, str(big))
        # Before the baseline's rows fill this process: a child's ru_maxrss starts from
        # its parent's resident size (Linux carries it across fork and exec), so at 1M
        # rows the quarter import read 1,104 MB, all of it the parent's normalized rows.
        quarter = in_child(_child_import, fresh_sqlite(tmp), str(small))
        people, identities, spent = normalized_rows(big)
        raw = sqlite_baseline(fresh_sqlite(tmp), people, identities)
        print(
            f"SQLite import with normalization: {ours['seconds']:.1f} s "
            f"({rows / ours['seconds']:,.0f} rows/s), counts {ours['counts']}"
        )
        print(f"SQLite raw executemany of normalized rows: {raw:.1f} s")
        print(f"  ratio import / raw = {ours['seconds'] / raw:.1f}x (target <= 3x)")
        # The floor: what normalizing alone costs, in the same units as the ratio.
        for what, seconds in (
            ("normalization alone", spent["normalize"]),
            ("phones", spent["phones"]),
        ):
            print(
                f"  {what}: {seconds:.1f} s, {seconds / rows * 1e6:.0f} us a row, "
                f"{seconds / raw:.1f}x the raw insert"
            )

        print(
            f"Peak RSS of the import: {quarter['peak_mb']:.0f} MB at {rows // 4:,} rows, "
            f"{ours['peak_mb']:.0f} MB at {rows:,} rows (target < 500 MB, flat)"
        )

        for fmt in () if args.no_export else ("csv", "parquet"):
            result = in_child(_child_export, url, fmt, str(tmp / f"out.{fmt}"))
            print(
                f"Export {rows:,} people to {fmt}: {result['seconds']:.1f} s, "
                f"{result['bytes'] / 2**20:.0f} MB written, peak RSS {result['peak_mb']:.0f} MB"
            )

        if pg_admin:
            pg_url, name = fresh_postgres(pg_admin)
            try:
                pg = in_child(_child_import, pg_url, str(big))
            finally:
                drop_postgres(pg_admin, name)
            copy_url, copy_name = fresh_postgres(pg_admin)
            try:
                copy_seconds = postgres_baseline(copy_url, people, identities)
            finally:
                drop_postgres(pg_admin, copy_name)
            print(f"PostgreSQL import with normalization: {pg['seconds']:.1f} s")
            print(f"PostgreSQL COPY of normalized rows: {copy_seconds:.1f} s")
            print(f"  ratio import / COPY = {pg['seconds'] / copy_seconds:.1f}x (target <= 3x)")
            print(
                f"  normalization alone = {spent['normalize'] / copy_seconds:.1f}x COPY, "
                f"phones alone {spent['phones'] / copy_seconds:.1f}x"
            )
        else:
            print("PostgreSQL: skipped (set TENURE_BENCH_POSTGRES_URL)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
