"""SQL that differs between SQLite and PostgreSQL, in one place.

Every capability that needs a dialect-specific expression (membership in a long list,
time spans, calendar days, JSON values) takes it from here, so that the two backends
answer the same question the same way and a fix lands once.

How values are stored: SQLite keeps ``UTCDateTime`` columns as naive UTC ISO text
``YYYY-MM-DD HH:MM:SS.ffffff`` (microseconds always written, see ``db.bulk`` and
``db.types``) and JSON as text; PostgreSQL has ``timestamptz`` and ``jsonb``.

Two SQLite pitfalls this module avoids, both measured as disagreements with PostgreSQL
on the same data (issue 9, item 7):

* ``julianday()`` and the date functions read fractional seconds to the millisecond
  only: two orders 1 microsecond apart are 0 days apart (PostgreSQL: 1.16e-11), and
  ``date('2026-03-31 23:59:59.999999', '+1 day')`` is ``2026-04-02`` (the time is rounded
  up to the next day first). Spans are therefore computed in integer microseconds from
  the text (:func:`epoch_micros`), and days are cut from the text before any date
  arithmetic (:meth:`Days.next_start`, :func:`days_before`).
* Divisions are done in IEEE doubles on both backends (PostgreSQL's ``numeric`` would
  otherwise give a different last digit), so a ratio compared with a threshold gives
  the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType

from tenure.db.types import UTCDateTime

if TYPE_CHECKING:
    import pandas as pd

EPOCH = date(1970, 1, 1)
MICROS_PER_DAY = 86_400_000_000


# Membership in a long list -------------------------------------------------------------


def member_of(connection: Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` as one bound parameter, however many values.

    SQLite caps bound parameters (999 on old builds), so a long IN list would need many
    statements; a JSON array read with ``json_each`` is one. PostgreSQL unnests an array
    with ``= ANY``. For integer ids prefer :func:`id_in`. No values select nothing (an
    untyped empty ``ARRAY[]`` is an error on PostgreSQL).
    """
    if not values:
        return false()
    if connection.dialect.name == "sqlite":
        members = func.json_each(orjson.dumps(list(values)).decode()).table_valued("value")
        return column.in_(select(members.c.value))
    # One array parameter, unnested: ``= ANY(ARRAY[:p1, ...])`` rendered a parameter per
    # value, and PostgreSQL compares each row with every element of such an array (no
    # hashing for an array of parameters): the import's look-up of a chunk's 2,000 emails
    # took 62 ms at 25,000 people and grew with the table; unnested it is a semi-join.
    item = column.type if not isinstance(column.type, NullType) else String()
    return column.in_(select(func.unnest(bindparam(None, list(values), type_=ARRAY(item)))))


def id_in(connection: Connection, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` for integer ids as one bound parameter.

    On PostgreSQL one ``bigint[]`` parameter: an ``array()`` literal builds a bind
    parameter per id, measured at 1.0 s to build and 1.3 s to compile for 20,000 ids
    (0.2 s a query for a thousand, compiled afresh for every merge batch).
    """
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return member_of(connection, column, ids)  # type: ignore[no-any-return]


def ids_parameter(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``column IN :name``, the ids given at execution (see :func:`ids_value`).

    A named parameter, so that one built statement serves every list of ids.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    members = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(members.c.value))


def ids_value(dialect: str, ids: Sequence[int]) -> Any:
    """The value of an :func:`ids_parameter` parameter: an array, or JSON text on SQLite."""
    return list(ids) if dialect == "postgresql" else orjson.dumps(list(ids)).decode()


def pairs_table(dialect: str, pairs: Sequence[tuple[int, str]]) -> tuple[Any, Any, Any]:
    """(table, first column, second column) listing (integer, text) ``pairs``.

    One bound parameter per column, joinable like a table: SQLite reads a JSON array of
    pairs with ``json_each``, PostgreSQL ``unnest``s two arrays side by side.
    """
    if dialect == "sqlite":
        listed = func.json_each(orjson.dumps(list(pairs)).decode()).table_valued("value")
        first = func.json_extract(listed.c.value, "$[0]")
        second = func.json_extract(listed.c.value, "$[1]")
        return listed, first, second
    listed = (
        func.unnest(
            bindparam("pairs_first", [p[0] for p in pairs], type_=ARRAY(Integer)),
            bindparam("pairs_second", [p[1] for p in pairs], type_=ARRAY(String)),
        )
        .table_valued("first", "second")
        .render_derived(name="pairs")
    )
    return listed, listed.c.first, listed.c.second


# Text ----------------------------------------------------------------------------------


def binary_text(dialect: str, expr: Any) -> Any:
    """Text that compares and sorts by code point on both backends.

    SQLite's default BINARY collation does; PostgreSQL needs ``COLLATE "C"`` (its
    database collation may sort "a" < "B").
    """
    return expr.collate("C") if dialect == "postgresql" else expr


# Instants and spans --------------------------------------------------------------------


def sqlite_timestamp(value: datetime) -> str:
    """A timestamp as SQLite holds ``UTCDateTime`` columns (naive UTC ISO text)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def moment(dialect: str, value: datetime) -> ColumnElement[Any]:
    """A constant timestamp usable in arithmetic with timestamp columns."""
    if dialect == "sqlite":
        return literal(sqlite_timestamp(value), String)
    return literal(value, UTCDateTime())


def epoch_micros(dialect: str, timestamp: Any) -> ColumnElement[int]:
    """Microseconds since 1970-01-01 UTC as an exact integer (NULL stays NULL).

    On SQLite the whole seconds come from ``strftime('%s')`` of the first 19 characters
    (no fraction, so nothing is rounded) and the microseconds from the text after the
    dot (none written: 0).
    """
    if dialect == "sqlite":
        seconds = cast(func.strftime("%s", func.substr(timestamp, 1, 19)), Integer)
        fraction = cast(func.substr(func.substr(timestamp, 21, 6).concat("000000"), 1, 6), Integer)
        return seconds * 1_000_000 + fraction
    return cast(extract("epoch", timestamp) * 1_000_000, BigInteger)


def days_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in fractional days (NULL when either is NULL).

    Exact to the microsecond on both backends, divided as doubles on both.
    """
    if dialect == "sqlite":
        micros = epoch_micros(dialect, later) - epoch_micros(dialect, earlier)
    else:
        micros = cast(extract("epoch", later - earlier) * 1_000_000, BigInteger)
    return cast(micros, Float) / literal(float(MICROS_PER_DAY), Float)


def days_before(dialect: str, column: Any, days: int) -> ColumnElement[Any]:
    """``column - days`` comparable with timestamp columns (text on SQLite).

    SQLite shifts the whole seconds and keeps the stored fraction as written, so nothing
    is rounded to milliseconds (``strftime('%f')`` would).
    """
    if dialect == "sqlite":
        shifted = func.datetime(func.substr(column, 1, 19), f"-{int(days)} days")
        return shifted.concat(func.substr(column, 20))
    return column - func.make_interval(0, 0, 0, int(days))


# Calendar days (UTC) -------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """Calendar-day expressions (UTC) for one SQL dialect (``sqlite`` or ``postgresql``).

    SQLite's day is the first ten characters of the stored text, which compare and sort
    like dates; PostgreSQL takes the date of the timestamp in UTC.
    """

    dialect: str

    def of(self, timestamp: Any) -> ColumnElement[Any]:
        """The UTC calendar day of a timestamp column (sortable, comparable, groupable)."""
        if self.dialect == "sqlite":
            return func.substr(timestamp, 1, 10, type_=String)
        return cast(func.timezone("UTC", timestamp), Date)

    def value(self, day: date) -> ColumnElement[Any]:
        """A day constant comparable with :meth:`of`."""
        if self.dialect == "sqlite":
            return literal(day.isoformat(), String)
        return literal(day, Date)

    def between(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        """Whole days from day ``earlier`` to day ``later`` (both from :meth:`of`)."""
        if self.dialect == "sqlite":
            # julianday() of a bare date is exact (x.5).
            return cast(func.julianday(later) - func.julianday(earlier), Integer)
        return cast(later - earlier, Integer)

    def since_epoch(self, day: Any) -> ColumnElement[Any]:
        """Days since 1970-01-01 of a day from :meth:`of` (a float on SQLite)."""
        if self.dialect == "sqlite":
            # julianday('1970-01-01') = 2440587.5
            return cast(func.julianday(day) - 2440587.5, Float)
        return cast(day - literal(EPOCH, Date), Integer)

    def number(self, timestamp: ColumnElement[Any]) -> ColumnElement[Any]:
        """The day of a timestamp as :meth:`decode` reads it back as a day number.

        PostgreSQL subtracts dates; SQLite returns the ``YYYY-MM-DD`` text, which numpy
        parses in C faster than ``julianday()`` converts it (1M values: 0.1 s vs ~1 s).
        """
        if self.dialect == "sqlite":
            return self.of(timestamp)
        return cast(self.of(timestamp) - literal(EPOCH, Date), Integer)

    def decode(self, values: pd.Series) -> pd.Series:
        """Day numbers (float, NaN where missing) of :meth:`number` results."""
        import numpy as np
        import pandas as pd

        if self.dialect != "sqlite":
            return pd.to_numeric(values).astype(float)
        present = values.notna().to_numpy()
        out = np.full(len(values), np.nan)
        text = values.to_numpy()[present].astype("U10")
        out[present] = text.astype("datetime64[D]").astype(np.int64)
        return pd.Series(out, index=values.index)

    def start(self, timestamp: Any) -> ColumnElement[Any]:
        """00:00 UTC of the timestamp's day, comparable with ``occurred_at``."""
        if self.dialect == "sqlite":
            return func.substr(timestamp, 1, 10, type_=String)
        return func.date_trunc("day", timestamp, "UTC")

    def next_start(self, timestamp: Any) -> ColumnElement[Any]:
        """00:00 UTC of the day after the timestamp's day.

        On SQLite the day is cut from the text first: ``date()`` of the full timestamp
        rounds 23:59:59.9995 and later up to the next day, two days after.
        """
        if self.dialect == "sqlite":
            return func.date(func.substr(timestamp, 1, 10), "+1 day", type_=String)
        return func.date_trunc("day", timestamp, "UTC") + func.make_interval(0, 0, 0, 1)

    def month(self, timestamp: Any) -> ColumnElement[Any]:
        """The UTC calendar month of a timestamp as ``YYYY-MM`` text."""
        if self.dialect == "sqlite":
            return func.substr(timestamp, 1, 7, type_=String)
        return func.to_char(func.timezone("UTC", timestamp), "YYYY-MM", type_=String)


# JSON values ---------------------------------------------------------------------------


def json_kind(dialect: str, column: Any, key: str) -> ColumnElement[str]:
    """The JSON type of ``column[key]`` normalized to number, string, boolean, null, other."""
    if dialect == "sqlite":
        raw = func.json_type(column, f"$.{key}")
        return case(
            (raw.in_(("integer", "real")), "number"),
            (raw == "text", "string"),
            (raw.in_(("true", "false")), "boolean"),
            (raw == "null", "null"),
            else_=case((raw.is_(None), None), else_="other"),
        )
    raw = func.jsonb_typeof(column.op("->")(key))
    return case(
        (raw.in_(("number", "string", "boolean", "null")), raw),
        else_=case((raw.is_(None), None), else_="other"),
    )


def json_number(dialect: str, column: Any, key: str) -> ColumnElement[float]:
    """``column[key]`` as a float when it is a JSON number, else NULL.

    Read with a type check first, so a payload holding ``{"score": "ten"}`` yields NULL
    instead of an error (PostgreSQL's cast of ``'ten'`` would abort the statement).
    """
    if dialect == "sqlite":
        value = func.json_extract(column, f"$.{key}")
        kind = func.json_type(column, f"$.{key}")
        return case((kind.in_(("integer", "real")), cast(value, Float)))
    kind = func.jsonb_typeof(column.op("->")(key))
    return case((kind == "number", cast(column.op("->>")(key), Float)))


def json_text(dialect: str, column: Any, key: str) -> ColumnElement[str]:
    """``column[key]`` as text when it is a JSON string; booleans as 'true'/'false'."""
    if dialect == "sqlite":
        kind = func.json_type(column, f"$.{key}")
        value = cast(func.json_extract(column, f"$.{key}"), String)
        return case((kind == "text", value), (kind.in_(("true", "false")), kind))
    kind = func.jsonb_typeof(column.op("->")(key))
    return case((kind.in_(("string", "boolean")), column.op("->>")(key)))


def json_equals_text(dialect: str, column: Any, key: str, value: str) -> ColumnElement[bool]:
    """``column[key] = value`` for a JSON string, NULL-safe (false when absent)."""
    return and_(
        json_kind(dialect, column, key) == "string", json_text(dialect, column, key) == value
    )


@dataclass(frozen=True)
class JsonKey:
    """One key of a JSON column, read with its JSON type checked (see segments' jsonpath).

    The key travels as a bound parameter: a JSON path ``$."key"`` on SQLite (callers
    pass validated names, which cannot close the quotes), the right operand of ``->`` /
    ``->>`` on PostgreSQL.
    """

    column: Any
    key: str
    dialect: str

    def _sqlite_path(self) -> ColumnElement[str]:
        return literal(f'$."{self.key}"', String)

    def type_name(self) -> ColumnElement[str]:
        """``text``/``integer``/``real``/``true``/``false``/``null`` (SQLite) or
        ``string``/``number``/``boolean``/``null`` (PostgreSQL); NULL when absent."""
        if self.dialect == "sqlite":
            return func.json_type(self.column, self._sqlite_path(), type_=String)
        element = self.column.op("->", return_type=JSONB)(literal(self.key, String))
        return func.jsonb_typeof(element, type_=String)

    def _raw(self) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return func.json_extract(self.column, self._sqlite_path())
        return self.column.op("->>", return_type=Text)(literal(self.key, String))

    def text(self, *, equality: bool = False) -> ColumnElement[Any]:
        """The value if it is a JSON string, else NULL."""
        if self.dialect == "sqlite":
            if equality:
                # json_extract has no affinity, so '5' = 5 is false without the type
                # check; skipping it keeps the common `attribute.plan = "pro"` cheap.
                return self._raw()
            return case((self.type_name() == "text", self._raw()))
        return case((self.type_name() == "string", self._raw()))

    def number(self) -> ColumnElement[Any]:
        """The value if it is a JSON number, else NULL."""
        if self.dialect == "sqlite":
            return case((self.type_name().in_(("integer", "real")), self._raw()))
        return case((self.type_name() == "number", cast(self._raw(), Numeric)))

    def integer(self) -> ColumnElement[Any]:
        """The value if it is a whole JSON number, else NULL (compared exactly)."""
        if self.dialect == "sqlite":
            return case((self.type_name() == "integer", self._raw()))
        value = self.number()
        return case((value == func.trunc(value), value))

    def fraction(self) -> ColumnElement[Any]:
        """The value as a double if it is a JSON number with a fraction, else NULL.

        SQLite reads such numbers as doubles; PostgreSQL would keep the exact decimal,
        so it is cast to ``float8`` to compare the same way.
        """
        if self.dialect == "sqlite":
            return case((self.type_name() == "real", self._raw()))
        value = self.number()
        return case((value != func.trunc(value), cast(self._raw(), Float)))

    def is_true(self, value: bool) -> ColumnElement[bool]:
        """The value is the JSON boolean ``value`` (never NULL)."""
        if self.dialect == "sqlite":
            return func.coalesce(self.type_name(), "") == ("true" if value else "false")
        word = "true" if value else "false"
        return and_(
            func.coalesce(self.type_name(), "") == "boolean",
            func.coalesce(self._raw(), "") == word,
        )

    def present(self) -> ColumnElement[bool]:
        return func.coalesce(self.type_name(), "null") != "null"
