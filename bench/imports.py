"""Import and export benchmarks: figures and ratios measured in the same run.

    python bench/imports.py --rows 100000         # the performance issue's size
    python bench/imports.py --rows 1000000        # a million contacts

1. Import N contacts from CSV with normalization (email validation, E.164 phones, ISO
   countries, name recasing, matching, the duplicate check) through ``run_import`` on
   SQLite, against raw ``sqlite3`` executemany of the same rows already normalized (people,
   identities).
2. The same on PostgreSQL against COPY of the normalized rows, when
   TENURE_BENCH_POSTGRES_URL is set (a database of its own is created and dropped).
3. The floor: normalizing the rows alone (no database), against each raw insert. An
   import cannot cost less than its normalization plus the insert.
4. Peak memory of the import at N/4 and N rows (flat: N's peak at most 1.25x N/4's), and
   of its anonymous memory alone (without the file pages of SQLite's memory map).
5. Export of the N people to CSV and Parquet: time and peak memory (``--no-export`` skips).

Each import runs in a child process of its own; its peak is the child's VmHWM, the
high-water mark of its resident memory since it started (``ru_maxrss`` would include the
parent's resident size, which Linux carries across fork and exec).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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


def _status_mb(field: str) -> float:
    """A figure of /proc/self/status in MB (VmHWM: peak resident since exec; VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return _status_mb("VmHWM")


class AnonymousPeak:
    """The peak of RssAnon, sampled every 10 ms in a thread: the process's own memory,
    without the file pages of SQLite's memory map of the database (which RSS and VmHWM
    count, and which grow with the file up to ``mmap_size`` as the import reads it)."""

    def __init__(self) -> None:
        import threading

        self.peak = _status_mb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _status_mb("RssAnon"))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _status_mb("RssAnon"))


def _child_import(url: str, path: str, queue: multiprocessing.Queue) -> None:
    from tenure.db.engine import create_db_engine
    from tenure.db.session import make_session_factory, unit_of_work
    from tenure.ingest.csv_import import path_opener, prepare_csv
    from tenure.ingest.runner import run_import

    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    loaded = _status_mb("VmRSS")  # the libraries, before the first row
    anonymous = AnonymousPeak()
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        source = prepare_csv(
            session, opener=path_opener(path), file_name=Path(path).name, default_region="US"
        )
    report = run_import(session_factory=factory, source=source, actor_id=None)
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "peak_mb": _peak_mb(),
            "anon_peak_mb": anonymous.stop(),
            "loaded_mb": loaded,
            "counts": report.counts(),
        }
    )


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
    seconds spent normalizing them with the import's own functions: all of it, and phones
    alone. The value caches start empty, as in the import's process."""
    import csv

    from tenure.customers.normalize import email_match_key, phone_e164, recase_name
    from tenure.ingest.drafts import _country

    # Load what the libraries load on first use (phone metadata, the country database)
    # before the clock starts, as the import has by its second chunk.
    email_match_key("warm@example.com"), phone_e164("+1 202 555 0143", "US"), _country("FR")
    people, identities = [], []
    phones = 0.0
    start = time.perf_counter()
    with path.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        for n, (email, first, last, phone, _company, country) in enumerate(reader, start=1):
            e = email_match_key(email)
            before = time.perf_counter()
            p = phone_e164(phone, "US")
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


def _import_on_postgres(admin_url: str, path: Path) -> dict:
    url, name = fresh_postgres(admin_url)
    try:
        return in_child(_child_import, url, str(path))
    finally:
        drop_postgres(admin_url, name)


def _ratio_lines(backend: str, ours: dict, baseline: str, base: float, spent: dict) -> None:
    rows = sum(ours["counts"].values())
    print(f"{backend}")
    print(
        f"  import with normalization: {ours['seconds']:.1f} s "
        f"({rows / ours['seconds']:,.0f} rows/s), counts {ours['counts']}"
    )
    print(f"  {baseline} of the normalized rows: {base:.2f} s")
    print(f"  ratio import / {baseline.split()[0]} = {ours['seconds'] / base:.2f}x (target <= 3x)")
    floor = spent["normalize"] / base
    print(
        f"  floor: normalization alone {spent['normalize']:.2f} s = {floor:.2f}x the insert "
        f"(phones {spent['phones'] / base:.2f}x), so no import goes under {1 + floor:.2f}x"
    )


def _memory_line(backend: str, quarter: dict, whole: dict, rows: int) -> None:
    ratio = whole["peak_mb"] / quarter["peak_mb"]
    anonymous = whole["anon_peak_mb"] / quarter["anon_peak_mb"]
    print(
        f"  {backend}: {quarter['peak_mb']:.0f} MB at {rows // 4:,} rows, "
        f"{whole['peak_mb']:.0f} MB at {rows:,}: {ratio:.2f}x (target <= 1.25x); "
        f"over the libraries loaded ({whole['loaded_mb']:.0f} MB): "
        f"{quarter['peak_mb'] - quarter['loaded_mb']:.0f} MB -> "
        f"{whole['peak_mb'] - whole['loaded_mb']:.0f} MB; anonymous memory alone "
        f"{quarter['anon_peak_mb']:.0f} MB -> {whole['anon_peak_mb']:.0f} MB: {anonymous:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
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
        quarter = in_child(_child_import, fresh_sqlite(tmp), str(small))
        pg = pg_quarter = None
        if pg_admin:
            pg = _import_on_postgres(pg_admin, big)
            pg_quarter = _import_on_postgres(pg_admin, small)
        people, identities, spent = normalized_rows(big)
        raw = sqlite_baseline(fresh_sqlite(tmp), people, identities)
        copy_seconds = 0.0
        if pg_admin:
            copy_url, copy_name = fresh_postgres(pg_admin)
            try:
                copy_seconds = postgres_baseline(copy_url, people, identities)
            finally:
                drop_postgres(pg_admin, copy_name)

        _ratio_lines("SQLite", ours, "raw executemany", raw, spent)
        if pg is not None:
            _ratio_lines("PostgreSQL", pg, "COPY", copy_seconds, spent)
        else:
            print("PostgreSQL: skipped (set TENURE_BENCH_POSTGRES_URL)")
        print("Peak resident memory of the import process")
        _memory_line("SQLite", quarter, ours, rows)
        if pg is not None and pg_quarter is not None:
            _memory_line("PostgreSQL", pg_quarter, pg, rows)

        for fmt in () if args.no_export else ("csv", "parquet"):
            result = in_child(_child_export, url, fmt, str(tmp / f"out.{fmt}"))
            print(
                f"Export {rows:,} people to {fmt}: {result['seconds']:.1f} s, "
                f"{result['bytes'] / 2**20:.0f} MB written, peak RSS {result['peak_mb']:.0f} MB"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
