"""The standard record frame the matcher reads, and its cleaning into comparable keys.

A *record frame* is a ``pandas.DataFrame`` with one row per person and these columns (any
column may be absent, any value may be ``None``/``NaN``):

===============  ======================================================================
record_id        int or str, unique per row; returned as ``left_id``/``right_id``
first_name       given name as typed
last_name        family name as typed
emails           list of normalized email addresses (``NormalizedEmail.match_key``)
phones           list of E.164 phone numbers (``NormalizedPhone.e164``)
external_ids     list of "namespace:value" ids, only from namespaces that hold one record
                 per person (a billing system's customer id); never a source's row ids
street_number    house number as text ("12", "12a")
address_line1    street line ("12 Main Street" or "main street")
address_line2    second address line (building, locality)
city             city or suburb
postcode         postal code as text
region           state / province / county
country          ISO 3166 alpha-2 code
date_of_birth    "YYYY-MM-DD"; digits are compared as written, so an impossible date
                 typed by someone ("1916-00-17") still counts as evidence
organization     employer or company name
===============  ======================================================================
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "external_ids",
    "street_number",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "region",
    "country",
    "date_of_birth",
    "organization",
)

_TEXT_COLUMNS = (
    "street_number",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "region",
    "country",
    "organization",
)

_SOUNDEX_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}


def soundex(word: str) -> str:
    """American Soundex (Knuth, TAOCP vol. 3): "robert" and "rupert" -> "r163"."""
    letters = [c for c in word.lower() if "a" <= c <= "z"]
    if not letters:
        return ""
    code = [letters[0]]
    previous = _SOUNDEX_CODES.get(letters[0], "")
    for letter in letters[1:]:
        digit = _SOUNDEX_CODES.get(letter, "")
        if digit and digit != previous:
            code.append(digit)
        # "h" and "w" do not separate two letters of the same code; vowels do.
        if letter not in "hw":
            previous = digit
    return "".join(code)[:4].ljust(4, "0")


def _fold_text(value: object, *, keep: str) -> str | None:
    """Lowercase, strip accents, keep letters/digits and ``keep`` characters, collapse spaces."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = unicodedata.normalize("NFKD", str(value).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(rf"[^\w{keep}]+", " ", text.replace("'", "").replace("_", " "))
    text = " ".join(text.split())
    return text or None


def clean_name(value: object) -> str | None:
    """ "O'Brien-Smith " -> "obrien smith"; digits dropped, since names have none."""
    folded = _fold_text(value, keep=" ")
    if folded is None:
        return None
    letters_only = " ".join(re.sub(r"[\d]+", " ", folded).split())
    return letters_only or None


def clean_date_of_birth(value: object) -> str | None:
    """Return the eight digits YYYYMMDD of a "YYYY-MM-DD" (or "YYYYMMDD") date, else None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    return digits if len(digits) == 8 else None


def _clean_list(values: object) -> tuple[str, ...]:
    if values is None or (isinstance(values, float) and np.isnan(values)):
        return ()
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        return ()
    cleaned = {str(v).strip().lower() for v in values if v is not None and str(v).strip()}
    return tuple(sorted(cleaned))


@dataclass(frozen=True)
class PreparedRecords:
    """Cleaned values of a record frame, row-aligned with ``record_ids``.

    ``values`` holds one object column per compared field (``None`` when missing) plus the
    derived blocking keys ``last_name_soundex``, ``first_name_soundex``, ``first_initial``,
    ``last_initial``, ``name_soundex_pair`` (the two soundex codes sorted, so swapped
    first/last names share it) and ``birth_year``; ``emails``, ``phones`` and
    ``external_ids`` are tuples.
    """

    record_ids: np.ndarray
    values: pd.DataFrame

    def __len__(self) -> int:
        return len(self.record_ids)

    def column(self, name: str) -> np.ndarray:
        return self.values[name].to_numpy(dtype=object)


def _map_unique(series: pd.Series, function: Callable[[Any], object]) -> pd.Series:
    """Apply ``function`` once per distinct value: a 100k base has far fewer distinct names."""
    uniques = pd.unique(series.dropna())
    mapping = {value: function(value) for value in uniques}
    return series.map(mapping).astype(object).where(series.notna(), None)


def prepare_records(records: pd.DataFrame) -> PreparedRecords:
    """Validate a record frame and compute the cleaned values used by blocking and scoring."""
    if "record_id" not in records.columns:
        raise ValueError("the record frame needs a 'record_id' column")
    if records["record_id"].isna().any():
        raise ValueError("record_id must not be missing")
    if not records["record_id"].is_unique:
        raise ValueError("record_id must be unique")
    frame = records.reset_index(drop=True)

    def raw(column: str) -> pd.Series:
        if column in frame.columns:
            return frame[column].astype(object)
        return pd.Series([None] * len(frame), dtype=object)

    values = pd.DataFrame(index=frame.index)
    values["first_name"] = _map_unique(raw("first_name"), clean_name)
    values["last_name"] = _map_unique(raw("last_name"), clean_name)
    for column in _TEXT_COLUMNS:
        values[column] = _map_unique(raw(column), lambda v: _fold_text(v, keep=" "))
    values["date_of_birth"] = _map_unique(raw("date_of_birth"), clean_date_of_birth)
    values["emails"] = raw("emails").map(_clean_list)
    values["phones"] = raw("phones").map(_clean_list)
    values["external_ids"] = raw("external_ids").map(_clean_list)

    values["last_name_soundex"] = _map_unique(values["last_name"], soundex)
    values["first_name_soundex"] = _map_unique(values["first_name"], soundex)
    values["first_initial"] = values["first_name"].str[0]
    values["last_initial"] = values["last_name"].str[0]
    both = values["first_name_soundex"].notna() & values["last_name_soundex"].notna()
    pair = np.where(
        values["first_name_soundex"].fillna("") < values["last_name_soundex"].fillna(""),
        values["first_name_soundex"].fillna("") + "|" + values["last_name_soundex"].fillna(""),
        values["last_name_soundex"].fillna("") + "|" + values["first_name_soundex"].fillna(""),
    )
    values["name_soundex_pair"] = pd.Series(pair, dtype=object).where(both, None)
    values["birth_year"] = values["date_of_birth"].str[:4]
    return PreparedRecords(record_ids=frame["record_id"].to_numpy(), values=values)
