"""PostgreSQL's binary COPY rows built from columns (db.copy_binary), read back."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from tenure.db.copy_binary import LateColumns, binary_blocks

TYPES = {
    "id": "int8",
    "small": "int2",
    "count": "int4",
    "ratio": "float8",
    "amount": "int8",
    "label": "text",
    "note": "text",
    "constant": "text",
    "moment": "timestamptz",
    "stamp": "timestamptz",
}
MOMENT = datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)  # before the format's epoch
LATER = datetime(2031, 2, 3, 4, 5, 6, 7, tzinfo=UTC)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.array([1, 2, 3, 2**40], dtype=np.int64),
            "small": np.array([-5, 0, 32_767, 7], dtype=np.int64),
            "count": np.array([0, -1, 2**31 - 1, 4], dtype=np.int64),
            "ratio": [0.1 + 1e-12, np.nan, -np.inf, 1 / 3],
            "amount": pd.array([None, 10, -(2**62), 0], dtype="Int64"),
            "label": ["a", "b", "a", "a"],
            "note": ["tab\there\nand a \\ backslash", None, "", "é ✓ 中"],
            "constant": "1.20261206T000000.000001Z",
            "moment": MOMENT,
            "stamp": [LATER, None, MOMENT, LATER],
        }
    )


@pytest.mark.parametrize("rows_per_block", [1, 3, 50_000])
def test_binary_rows_read_back_as_written(connection, backend, rows_per_block):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's COPY format")
    # Given rows with NULLs, extreme values, texts that need escaping in the text
    # format, one text the same on every row, timestamps before 2000-01-01 and missing
    connection.exec_driver_sql(
        "CREATE TEMP TABLE copied (id bigint, small smallint, count integer, "
        "ratio double precision, amount bigint, label text, note text, "
        "constant varchar(40), moment timestamptz, stamp timestamptz)"
    )
    frame = _frame()

    # When they are copied in the binary format, in blocks
    order, blocks = binary_blocks(frame, TYPES, rows_per_block)
    raw = connection.connection.driver_connection
    sql = f"COPY copied ({', '.join(order)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in blocks:
            copy.write(block)

    # Then every value reads back as it was, NULL where it was missing
    rows = connection.execute(text(f"SELECT {', '.join(TYPES)} FROM copied ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [
        (
            1,
            -5,
            0,
            0.1 + 1e-12,
            None,
            "a",
            "tab\there\nand a \\ backslash",
            frame.constant[0],
            MOMENT,
            LATER,
        ),
        (2, 0, -1, None, 10, "b", None, frame.constant[0], MOMENT, None),
        (3, 32_767, 2**31 - 1, -np.inf, -(2**62), "a", "", frame.constant[0], MOMENT, MOMENT),
        (2**40, 7, 4, 1 / 3, 0, "a", "é ✓ 中", frame.constant[0], MOMENT, LATER),
    ]


def test_an_empty_frame_is_a_copy_of_no_rows():
    order, blocks = binary_blocks(_frame().iloc[:0], TYPES, 10)
    assert sorted(order) == sorted(TYPES)
    assert b"".join(blocks) == b"PGCOPY\n\xff\r\n\x00" + bytes(8) + b"\xff\xff"


def test_late_columns_are_made_for_each_block_and_copied_after_the_others(connection, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's COPY format")
    # Given a frame of ids, and two columns made only when a block of rows is joined:
    # one block with no NULL in them, one with only NULLs, one mixed
    connection.exec_driver_sql("CREATE TEMP TABLE late (id bigint, score float8, why text)")
    frame = pd.DataFrame({"id": np.arange(1, 8, dtype=np.int64)})
    asked: list[tuple[int, int]] = []

    def make(start: int, stop: int) -> pd.DataFrame:
        asked.append((start, stop))
        ids = frame["id"].to_numpy()[start:stop]
        return pd.DataFrame(
            {
                "score": [np.nan if i in (4, 5, 6) else i / 10 for i in ids],
                "why": [None if i in (4, 5, 6) else f"reason {i}" for i in ids],
            }
        )

    # When they are copied in blocks of three rows
    late = LateColumns({"score": "float8", "why": "text"}, make)
    order, blocks = binary_blocks(frame, {"id": "int8"}, 3, late=late)
    raw = connection.connection.driver_connection
    sql = f"COPY late ({', '.join(order)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in blocks:
            copy.write(block)

    # Then each block's late columns were made once, and read back in their rows
    assert order == ["id", "score", "why"] and asked == [(0, 3), (3, 6), (6, 7)]
    rows = connection.execute(text("SELECT id, score, why FROM late ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [
        (1, 0.1, "reason 1"),
        (2, 0.2, "reason 2"),
        (3, 0.3, "reason 3"),
        (4, None, None),
        (5, None, None),
        (6, None, None),
        (7, 0.7, "reason 7"),
    ]
