"""kill -9 in the middle of `tenure import csv`, then run it again: every row exactly once.

The CLI runs in a real subprocess against a fresh database. The test watches the import
record's resume cursor from another connection and kills the process (SIGKILL, no
cleanup) once some chunks have committed; chunks are 100 rows, so the kill lands with
most of the file still to go, wherever the process happens to be inside a chunk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import text

from tenure.db.engine import create_db_engine

ROWS = 3_000


def _write_csv(path) -> None:
    lines = ["Email,First Name,Last Name,Phone,Company,Country"]
    for n in range(ROWS):
        lines.append(
            f"person{n}@example.com,First{n},Last{n},+1 202 555 {n % 10_000:04d},"
            f"Company {n % 37},{'Germany' if n % 2 else 'FR'}"
        )
    path.write_text("\n".join(lines) + "\n")


def _command(path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tenure.cli.main",
        "import",
        "csv",
        str(path),
        "--chunk-size",
        "100",
    ]


def test_killed_import_resumes_and_imports_every_row_once(fresh_database_url, tmp_path):
    path = tmp_path / "big.csv"
    _write_csv(path)
    env = {**os.environ, "TENURE_DATABASE_URL": fresh_database_url, "COLUMNS": "100"}
    engine = create_db_engine(fresh_database_url)

    log = tmp_path / "first-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(_command(path), env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 120
    done = 0
    while done < 500:
        assert process.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, "the import made no progress"
        with engine.connect() as conn:
            done = conn.execute(text("SELECT coalesce(max(rows_done), 0) FROM imports")).scalar()
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    with engine.connect() as conn:
        status, rows_done = conn.execute(text("SELECT status, rows_done FROM imports")).one()
        people_after_kill = conn.execute(text("SELECT count(*) FROM people")).scalar()
    assert status == "running" and 500 <= rows_done < ROWS
    assert people_after_kill == rows_done  # whole chunks only: no half-written chunk survives

    again = subprocess.run(_command(path), env=env, capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()[-2000:]

    with engine.connect() as conn:
        imports = conn.execute(
            text(
                "SELECT status, rows_done, created, updated, unchanged, rejected, resumed "
                "FROM imports"
            )
        ).all()
        assert imports == [("completed", ROWS, ROWS, 0, 0, 0, 1)]
        per_email = conn.execute(
            text(
                "SELECT value, count(*) FROM identities WHERE kind = 'email' "
                "GROUP BY value HAVING count(*) > 1"
            )
        ).all()
        assert per_email == []
        assert (
            conn.execute(
                text("SELECT count(DISTINCT value) FROM identities WHERE kind = 'email'")
            ).scalar()
            == ROWS
        )
        assert conn.execute(text("SELECT count(*) FROM people")).scalar() == ROWS
        assert conn.execute(text("SELECT count(*) FROM people_imports")).scalar() == ROWS
        assert conn.execute(text("SELECT count(*) FROM organizations")).scalar() == 37
    engine.dispose()
