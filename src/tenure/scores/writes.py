"""Writing a refresh's scores in bulk, only the rows whose values changed.

When the refresh's as-of day is another than every earlier refresh's (every night: it
moves a day), every customer's age in days changed and so did every row: the table is
refilled without comparing (:func:`_replace_all`). Otherwise (a rerun the same day) the
new rows are loaded into a temporary table and compared with ``person_scores`` in SQL;
only the people whose row is new, different or gone are deleted and re-inserted (all
of them the first load's way when they are most of the table), and their ids are
returned (what later steps and hooks follow). A row's ``refresh_id`` is not compared: it
says which refresh last changed the row's values. Into an empty table the rows go
straight in.

Per-row ORM inserts would take minutes for a million customers. On SQLite the rows go to
the driver's ``executemany``, 20 to a statement, with values already in storage form
(reasons come as JSON text from :func:`tenure.scores.churn.reasons_json`;
``insert_rows`` would convert each value of each row again); on PostgreSQL they are
streamed with ``COPY ... FROM STDIN`` in the binary format, built from whole columns
(:mod:`tenure.db.copy_binary`), in blocks sent from a thread while the next block is
joined. The churn columns are made as the rows are loaded (:func:`_load`). A refill
loads a new table, builds its indexes once over the loaded rows and swaps it in at the
end, so that readers are never locked out for the load (:func:`_refill`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, Table, func, select

from tenure.db.copy_binary import LateColumns, binary_blocks, column_types
from tenure.scores.churn import ChurnScores
from tenure.scores.models import PersonScore, ScoreRefresh

COLUMNS = (
    "person_id",
    "refresh_id",
    "purchase_days",
    "frequency",
    "recency_days",
    "age_days",
    "monetary_minor",
    "revenue_minor",
    "historical_clv_minor",
    "p_alive",
    "expected_purchases_90d",
    "clv_12m_minor",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "churn_probability",
    "churn_reasons",
)
#: Made as the rows are loaded (``scores.churn.ChurnScores``), not by score_frame.
CHURN_COLUMNS = ("churn_probability", "churn_reasons")
#: Which refresh wrote a row, not what it says: left out of the comparison.
META_COLUMNS = ("refresh_id",)
NEW = "person_scores_new"
CHANGED = "person_scores_changed"
#: PostgreSQL's refill builds the table under this name, its keys and indexes with
#: :data:`SUFFIX`, and renames them into place.
NEXT = "person_scores_next"
SUFFIX = "_next"
#: SQLite's rows per INSERT statement, and per block of values laid out at once
#: (:func:`_insert_sqlite`; a multiple of the first). 20 rows bind 340 values, far
#: below SQLite's limit of 32,766.
SQLITE_ROWS_PER_INSERT = 20
SQLITE_BLOCK_ROWS = 50_000
#: Rows per block of PostgreSQL's COPY (:func:`_copy_postgres`).
COPY_BLOCK_ROWS = 50_000
#: :data:`COLUMNS`' types on PostgreSQL, for the binary COPY: the churn columns' apart,
#: made a block at a time (:func:`_copy_postgres`).
POSTGRES_TYPES = column_types(cast(Table, PersonScore.__table__), COLUMNS)
_VALUE_TYPES = {k: v for k, v in POSTGRES_TYPES.items() if k not in CHURN_COLUMNS}
_CHURN_TYPES = {k: POSTGRES_TYPES[k] for k in CHURN_COLUMNS}
#: Beyond this share of the stored rows changed, the table is refilled (see write_scores).
REPLACE_SHARE = 0.5


def score_frame(
    *,
    summary: pd.DataFrame,
    scores: pd.DataFrame,
    refunds: pd.Series,
    meta: dict[str, Any],
) -> pd.DataFrame:
    """One row per customer in :data:`COLUMNS` order but the churn columns
    (:data:`CHURN_COLUMNS`, made when the rows are loaded: :func:`_load`)."""
    index = summary.index
    net = summary["revenue"] - refunds.reindex(index, fill_value=0).to_numpy()
    # Not copied into 2-D blocks per type (pandas' default): that cost 0.9 s at 1M
    # rows, and the writers read column by column.
    frame = pd.DataFrame(
        {
            "person_id": index.to_numpy(dtype=np.int64),
            "refresh_id": np.full(len(index), meta["refresh_id"], dtype=np.int64),
            "purchase_days": summary["purchase_days"].to_numpy(dtype=np.int64),
            "frequency": summary["frequency"].to_numpy(dtype=np.int64),
            "recency_days": summary["recency_days"].to_numpy(dtype=np.int64),
            "age_days": summary["T"].to_numpy(dtype=np.int64),
            "monetary_minor": np.round(summary["monetary"].to_numpy()).astype(np.int64),
            "revenue_minor": summary["revenue"].to_numpy(dtype=np.int64),
            "historical_clv_minor": np.round(net.to_numpy() * meta["margin"]).astype(np.int64),
            "p_alive": scores["p_alive"].to_numpy(dtype=float),
            "expected_purchases_90d": scores["expected_purchases_90d"].to_numpy(dtype=float),
            "clv_12m_minor": pd.array(scores["clv_12m_minor"].to_numpy(), dtype="Int64"),
            "r_score": scores["r_score"].to_numpy(dtype=np.int64),
            "f_score": scores["f_score"].to_numpy(dtype=np.int64),
            "m_score": scores["m_score"].to_numpy(dtype=np.int64),
            "rfm_segment": scores["rfm_segment"].to_numpy(dtype=object),
        },
        copy=False,
    )
    return frame


def write_scores(connection: Connection, *, churn: ChurnScores, **parts: Any) -> list[int]:
    """Make ``person_scores`` hold this refresh's scores (``parts``: see
    :func:`score_frame`; ``churn``: the churn columns, made as the rows are loaded);
    returns the ids of the people whose scores were added, changed or removed (sorted)."""
    frame = score_frame(**parts)

    def load(table: str) -> None:
        _load(connection, frame, churn, table)

    stored = connection.scalar(select(func.count()).select_from(PersonScore))
    if not stored:
        _refill(connection, load)
        return sorted(frame["person_id"].tolist())
    if not _refreshed_same_day(connection, parts["meta"]):
        return _replace_all(connection, frame, load)
    dialect = connection.dialect.name
    sql = connection.exec_driver_sql
    for name in (NEW, CHANGED):
        sql(f"DROP TABLE IF EXISTS {name}")
    if dialect == "sqlite":
        sql(f"CREATE TEMP TABLE {NEW} AS SELECT * FROM person_scores WHERE 0")
    else:
        sql(f"CREATE TEMP TABLE {NEW} (LIKE person_scores) ON COMMIT DROP")
    load(NEW)
    # Both sides are joined on person_id: without an index the removed-rows probe is a
    # scan of the new rows per stored row.
    sql(f"CREATE UNIQUE INDEX ix_{NEW}_person_id ON {NEW} (person_id)")
    if dialect == "postgresql":
        sql(f"ANALYZE {NEW}")
    same = " IS " if dialect == "sqlite" else " IS NOT DISTINCT FROM "
    equal = " AND ".join(f"n.{c}{same}s.{c}" for c in COLUMNS if c not in META_COLUMNS)
    on_commit = "" if dialect == "sqlite" else " ON COMMIT DROP"
    sql(
        f"CREATE TEMP TABLE {CHANGED}{on_commit} AS "
        f"SELECT n.person_id FROM {NEW} n LEFT JOIN person_scores s "
        f"ON s.person_id = n.person_id WHERE s.person_id IS NULL OR NOT ({equal}) "
        "UNION ALL SELECT s.person_id FROM person_scores s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {NEW} n WHERE n.person_id = s.person_id)"
    )
    changed = list(sql(f"SELECT person_id FROM {CHANGED} ORDER BY person_id").scalars().all())
    names = ", ".join(COLUMNS)
    if len(changed) > stored * REPLACE_SHARE:
        # Most rows change (every night: the as-of moves a day, and with it every
        # customer's age): the table is refilled from the new rows and its indexes built
        # once, the first load's way, instead of a delete and an insert per row (with
        # their index entries, and on PostgreSQL a foreign key lookup each).
        _refill(
            connection,
            lambda table: sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM {NEW}"),
        )
    elif changed:
        sql(f"DELETE FROM person_scores WHERE person_id IN (SELECT person_id FROM {CHANGED})")
        sql(
            f"INSERT INTO person_scores ({names}) SELECT {names} FROM {NEW} "
            f"WHERE person_id IN (SELECT person_id FROM {CHANGED})"
        )
    if dialect == "sqlite":
        for name in (NEW, CHANGED):
            sql(f"DROP TABLE {name}")
    return changed


def _refreshed_same_day(connection: Connection, meta: dict[str, Any]) -> bool:
    """Whether another refresh was as of the same day (UTC) as this one: only then can a
    stored row equal a new one. Rows keep the refresh that last changed them, so a row
    of another day's refresh has another age in days (days since the first order as of
    that day). Asked of ``score_refreshes`` (a few rows a day), where the stored rows'
    own days took a pass over the whole table."""
    start = datetime.combine(meta["as_of"].astimezone(UTC).date(), time(), UTC)
    same_day = select(ScoreRefresh.id).where(
        ScoreRefresh.id != meta["refresh_id"],
        ScoreRefresh.as_of >= start,
        ScoreRefresh.as_of < start + timedelta(days=1),
    )
    return connection.scalar(same_day.limit(1)) is not None


def _replace_all(
    connection: Connection, frame: pd.DataFrame, load: Callable[[str], None]
) -> list[int]:
    """Replace every row without comparing: the as-of day is another than any stored
    row's (every night: it moves a day), so every customer's age (``age_days``, days
    since the first order as of that day) is another, and so is every row. The table
    is refilled the first load's way; the ids returned are everyone's, stored or new
    (merged in numpy: a million ids through a Python set and sort took over a second,
    and ``np.union1d``'s hashing of both arrays one).
    """
    gone = _stored_beyond(connection, frame)
    _refill(connection, load)
    ids = np.sort(np.concatenate([frame["person_id"].to_numpy(), gone]))
    return cast(list[int], ids.tolist())


def _stored_beyond(connection: Connection, frame: pd.DataFrame) -> np.ndarray:
    """The stored people missing from the new rows (no longer customers: a few, if
    any): every stored id read as one comma-separated text (``group_concat``,
    ``string_agg``) parsed by numpy, those among the new rows dropped in numpy. At 1M
    rows 0.1-0.2 s, where fetching a million ids as rows took 0.75 s, SQLite's
    anti-join of the two tables 2.7 s (row by row) and PostgreSQL's 0.3-0.45 s."""
    if connection.dialect.name == "postgresql":
        query = "SELECT string_agg(person_id::text, ',') FROM person_scores"
    else:
        query = "SELECT group_concat(person_id) FROM person_scores"
    text = connection.exec_driver_sql(query).scalar()
    if not text:
        return np.empty(0, dtype=np.int64)
    stored = np.fromstring(text, dtype=np.int64, sep=",")
    return stored[~np.isin(stored, frame["person_id"].to_numpy())]


def _refill(connection: Connection, load: Callable[[str], object]) -> None:
    """Replace every row of ``person_scores`` with what ``load(table)`` writes into
    ``table``, the indexes built once over the loaded rows.

    Both build a new table and swap it in. SQLite (:func:`_swapped_in_sqlite`): dropping
    the old table is cheaper than emptying it; readers keep reading the last committed
    rows (WAL) meanwhile. PostgreSQL (:func:`_swapped_in`): dropping an index or
    emptying the table in place would lock every reader of the scores (the 360 view
    joins them) out for the whole load.
    """
    if connection.dialect.name == "sqlite":
        _swapped_in_sqlite(connection, load)
    else:
        _swapped_in(connection, load)


def _swapped_in(connection: Connection, load: Callable[[str], object]) -> None:
    """``person_scores`` rebuilt as a new table and renamed into place.

    The new table copies the columns, defaults and checks (``LIKE``); after the load it
    gets the primary key, the secondary indexes and the foreign keys from the old
    table's own definitions, under temporary names. Only the swap (drop, renames) takes
    the exclusive lock, held until the refresh commits right after: readers wait for
    that, not for the load.
    """
    sql = connection.exec_driver_sql
    sql(f"DROP TABLE IF EXISTS {NEXT}")
    sql(f"CREATE TABLE {NEXT} (LIKE person_scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    load(NEXT)
    constraints = sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'person_scores'::regclass AND contype IN ('p', 'u', 'f') "
        "ORDER BY contype DESC, conname"  # the keys before the foreign keys
    ).all()
    indexes = sql(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'person_scores'::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
    ).all()
    for name, definition in constraints:
        sql(f'ALTER TABLE {NEXT} ADD CONSTRAINT "{name}{SUFFIX}" {definition}')
    for name, definition in indexes:
        head, _, columns = definition.partition(" USING ")
        unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
        sql(f'CREATE {unique}INDEX "{name}{SUFFIX}" ON {NEXT} USING {columns}')
    sql("DROP TABLE person_scores")
    sql(f"ALTER TABLE {NEXT} RENAME TO person_scores")
    for name, _definition in constraints:
        sql(f'ALTER TABLE person_scores RENAME CONSTRAINT "{name}{SUFFIX}" TO "{name}"')
    for name, _definition in indexes:
        sql(f'ALTER INDEX "{name}{SUFFIX}" RENAME TO "{name}"')


def _swapped_in_sqlite(connection: Connection, load: Callable[[str], object]) -> None:
    """SQLite: ``person_scores`` rebuilt as a new table from its own definition, the old
    one dropped and the new renamed into place, then its secondary indexes built from
    their definitions, in one transaction. Dropping a table frees its pages as they are;
    emptying it with ``DELETE`` rewrote every page (and checked the foreign key per row),
    which made the next night's write cost half again the first load's. Building an
    index over the loaded rows sorts once, where maintaining it took a random B-tree
    insert per row. Readers keep reading the last committed scores meanwhile (WAL)."""
    sql = connection.exec_driver_sql
    definition = sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'person_scores'"
    ).scalar_one()
    indexes = (
        sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'person_scores' AND sql IS NOT NULL"
        )
        .scalars()
        .all()
    )
    create, renamed = re.subn(
        r'^CREATE TABLE\s+"?person_scores"?(?=\s*\()', f"CREATE TABLE {NEXT}", definition
    )
    if not renamed:  # a definition of another shape: say so rather than guess
        raise RuntimeError(f"unexpected definition of person_scores: {definition[:80]!r}")
    sql(f"DROP TABLE IF EXISTS {NEXT}")
    sql(create)
    load(NEXT)
    sql("DROP TABLE person_scores")
    sql(f"ALTER TABLE {NEXT} RENAME TO person_scores")
    for index in indexes:
        sql(index)


def _load(connection: Connection, frame: pd.DataFrame, churn: ChurnScores, table: str) -> None:
    """``frame``'s rows into ``table``, with their churn columns from ``churn``: on
    SQLite all at once before the insert; on PostgreSQL a block at a time, while the
    server stores the blocks before (the churn model predicting and explaining a million
    customers is about a second of Python the COPY would otherwise wait for)."""
    if frame.empty:
        return
    if connection.dialect.name == "sqlite":
        made = churn.at(frame["person_id"].to_numpy())
        whole = frame.copy(deep=False)
        for name in CHURN_COLUMNS:
            whole[name] = made[name].to_numpy()
        _insert_sqlite(connection, whole, table)
    else:
        _copy_postgres(connection, frame, churn, table)


def _column_values(series: pd.Series) -> list[Any]:
    """Python values with missing numbers as None (SQL NULL)."""
    if isinstance(series.dtype, pd.Int64Dtype):
        values = series.to_numpy(dtype=np.int64, na_value=0).tolist()
        missing = series.isna().to_numpy()
    elif series.dtype.kind == "f":
        values = series.tolist()
        missing = np.isnan(series.to_numpy())
    else:
        return series.tolist()
    for at in np.flatnonzero(missing).tolist():
        values[at] = None
    return values


def _insert_sqlite(connection: Connection, frame: pd.DataFrame, table: str) -> None:
    """``executemany`` of an ``INSERT`` of :data:`SQLITE_ROWS_PER_INSERT` rows at a
    time, their values laid out flat a block of rows at a time (no list of a million
    tuples). One row per statement cost a fifth more at 1M rows (2.6 s against 2.0 s):
    each statement is stepped and reset once, whatever its rows. The refresh's id, the
    same on every row, is written into the statement as a literal instead of being
    bound on every row."""
    constant: dict[str, str] = {}
    columns: list[list[Any]] = []
    for name in COLUMNS:
        if name == "refresh_id":
            constant[name] = str(int(frame[name].iloc[0]))
        elif name == "churn_reasons":
            columns.append([v if isinstance(v, str) else None for v in frame[name].tolist()])
        else:
            columns.append(_column_values(frame[name]))
    row = "(" + ", ".join(constant.get(c, "?") for c in COLUMNS) + ")"
    head = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES "
    many = head + ", ".join([row] * SQLITE_ROWS_PER_INSERT)
    raw = connection.connection.driver_connection
    assert raw is not None
    n, width = len(frame), len(columns)
    step = SQLITE_ROWS_PER_INSERT * width
    whole = n - n % SQLITE_ROWS_PER_INSERT
    for start in range(0, whole, SQLITE_BLOCK_ROWS):
        stop = min(start + SQLITE_BLOCK_ROWS, whole)
        flat: list[Any] = [None] * ((stop - start) * width)
        for at, column in enumerate(columns):
            flat[at::width] = column[start:stop]
        raw.executemany(many, (flat[i : i + step] for i in range(0, len(flat), step)))
    if whole < n:  # the last few rows, one statement each
        raw.executemany(head + row, zip(*(column[whole:] for column in columns), strict=True))


def _copy_postgres(
    connection: Connection, frame: pd.DataFrame, churn: ChurnScores, table: str
) -> None:
    """Binary ``COPY`` (:mod:`tenure.db.copy_binary`) in blocks of
    :data:`COPY_BLOCK_ROWS`, handed to a thread that sends them (psycopg's
    ``QueuedLibpqWriter``): the server stores one block while the next is joined here."""
    raw = connection.connection.driver_connection
    assert raw is not None
    ids = frame["person_id"].to_numpy()
    late = LateColumns(_CHURN_TYPES, lambda start, stop: churn.at(ids[start:stop]))
    order, blocks = binary_blocks(frame, _VALUE_TYPES, COPY_BLOCK_ROWS, late=late)
    sql = f"COPY {table} ({', '.join(order)}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cursor, cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
        for block in blocks:
            copy.write(block)
