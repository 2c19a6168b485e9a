"""Export of a list view, its columns in its order and sort, as CSV or XLSX.

Rows come from ``lists.queries.view_batches`` (keyset batches, each in a short session),
so memory stays flat at any size. CSV is written batch by batch with the exporter of
``tenure.exports`` (``csv_lines``, formula cells escaped by ``escape_cell``). XLSX uses
openpyxl's write-only workbook, which spools rows to a temporary file instead of holding
cells in memory; a ZIP file's directory comes last, so the bytes are streamed once the
workbook is complete (from a temporary file, never held whole in memory). Text cells are
escaped in XLSX as well: openpyxl stores a string starting with ``=`` as a formula.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.orm import Session, sessionmaker

from tenure.exports.streaming import csv_lines, escape_cell
from tenure.lists.columns import COLUMNS, Column
from tenure.lists.queries import View, view_batches

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Minor units per major unit where ISO 4217 says other than 2 (as the pages show money).
_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3}
_CHUNK = 64 * 1024


def header(view: View) -> list[str]:
    names: list[str] = []
    for key in view.columns:
        column = COLUMNS[key]
        names.append(column.label)
        if column.kind == "money":
            names.append(f"{column.label} currency")
    return names


def _major(amount_minor: int | None, currency: str | None) -> Decimal | None:
    if amount_minor is None:
        return None
    return Decimal(amount_minor).scaleb(-_EXPONENTS.get(currency or "", 2))


def _cells(column: Column, row: dict[str, Any]) -> list[Any]:
    """The typed cells of one column (two for money: the amount and its currency)."""
    if column.cell is not None:
        return [column.cell(row)]
    value = row.get(column.key)
    if column.kind == "money":
        currency = row.get(f"{column.key}_currency")
        return [_major(value, currency), currency]
    if column.kind == "percent" and value is not None:
        return [round(float(value), 4)]
    return [value]


def rows_of(view: View, batch: list[dict[str, Any]]) -> list[list[Any]]:
    return [[cell for key in view.columns for cell in _cells(COLUMNS[key], row)] for row in batch]


def _csv_value(value: Any, tz: tzinfo) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()  # with its offset
    return escape_cell(value)


def _xlsx_value(value: Any, tz: tzinfo) -> Any:
    if isinstance(value, datetime):
        # A spreadsheet has no time zones: the workspace's local time, what its users read.
        return value.astimezone(tz).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)  # a number the spreadsheet sums; cents are exact in a double
    return escape_cell(value)


def export_view(
    factory: sessionmaker[Session], view: View, *, format: str, tz: tzinfo = UTC
) -> Iterator[bytes]:
    """The bytes of the view's export, produced while they are read; times in ``tz`` (the
    workspace's time zone)."""
    batches = view_batches(factory, view)
    if format == "xlsx":
        return _xlsx(view, batches, tz)
    return csv_lines(
        header(view),
        ([[_csv_value(v, tz) for v in row] for row in rows_of(view, batch)] for batch in batches),
    )


def _xlsx(view: View, batches: Iterator[list[dict[str, Any]]], tz: tzinfo) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("People")
    bold = Font(bold=True)
    titles = []
    for title in header(view):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    formats = [fmt for key in view.columns for fmt in _number_formats(COLUMNS[key])]
    for batch in batches:
        for row in rows_of(view, batch):
            # A styled cell costs several times a plain value: only formatted ones get one.
            cells: list[Any] = []
            for value, fmt in zip(row, formats, strict=True):
                plain = _xlsx_value(value, tz)
                if fmt and value is not None:
                    cell = WriteOnlyCell(sheet, value=plain)
                    cell.number_format = fmt
                    cells.append(cell)
                else:
                    cells.append(plain)
            sheet.append(cells)
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        out.seek(0)
        while chunk := out.read(_CHUNK):
            yield chunk


def _number_formats(column: Column) -> list[str | None]:
    if column.kind == "money":
        return ["#,##0.00", None]
    if column.kind == "percent":
        return ["0.0%"]
    if column.kind == "date":
        return ["yyyy-mm-dd hh:mm"]
    return [None]
