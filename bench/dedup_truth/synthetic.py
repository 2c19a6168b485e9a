"""A synthetic customer base with known duplicates, for benchmarks and tests at scale.

People are assembled from the values of the FEBRL original records (names, streets,
suburb/postcode/state), given birth dates, emails, phones and employers, then copied with
the mistakes a CRM sees: typos, nicknames, swapped first/last names, missing fields,
day/month swaps, people who moved house but kept their email or phone. Households (same
surname, address and landline, different person) are added as hard non-matches. A fixed
seed gives the same base every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from tenure.datasets.files import febrl_path
from tenure.dedup.matching.similarity import nickname_families

_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "bigpond.com.au", "yahoo.com.au", "icloud.com")
_ORGANIZATIONS = (
    "Acme Pty Ltd",
    "Southern Cross Logistics",
    "Harbour Bank",
    "Blue Gum Software",
    "Koala Health",
    "Murray River Farms",
    "Outback Mining Co",
    "Coral Coast Travel",
)


@dataclass(frozen=True)
class SyntheticBase:
    records: pd.DataFrame  # a record frame (see records.py)
    entity: pd.Series  # true person of each record, indexed by record_id


def _febrl_originals() -> pd.DataFrame:
    frames = []
    for number in (1, 2, 3):
        raw = pd.read_csv(febrl_path(number), dtype=str, skipinitialspace=True)
        raw.columns = raw.columns.str.strip()
        frames.append(raw[raw["rec_id"].str.strip().str.endswith("-org")])
    return pd.concat(frames, ignore_index=True).apply(lambda column: column.str.strip())


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word
    position = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(4)
    letter = chr(int(rng.integers(97, 123)))
    if kind == 0:  # substitution
        return word[:position] + letter + word[position + 1 :]
    if kind == 1:  # insertion
        return word[:position] + letter + word[position:]
    if kind == 2:  # deletion
        return word[:position] + word[position + 1 :]
    return word[: position - 1] + word[position] + word[position - 1] + word[position + 1 :]


@cache
def _nickname_alternatives() -> dict[str, tuple[str, ...]]:
    families = nickname_families()
    return {
        name: tuple(sorted(o for o, ids in families.items() if ids & own and o != name))
        for name, own in families.items()
    }


def _nickname_of(name: str, rng: np.random.Generator) -> str:
    alternatives = _nickname_alternatives().get(name, ())
    return str(alternatives[int(rng.integers(len(alternatives)))]) if alternatives else name


def _sometimes(values: np.ndarray, share: float, rng: np.random.Generator) -> pd.Series:
    """``values`` with all but about ``share`` of them replaced by None."""
    return pd.Series(values, dtype=object).where(rng.random(len(values)) < share, None)


def _people(count: int, rng: np.random.Generator) -> pd.DataFrame:
    pool = _febrl_originals()
    formal_names = sorted({line_name for line_name in nickname_families() if len(line_name) > 4})
    febrl_first = pool["given_name"].dropna().to_numpy()
    use_formal = rng.random(count) < 0.25
    first = np.where(use_formal, rng.choice(formal_names, count), rng.choice(febrl_first, count))
    last = rng.choice(pool["surname"].dropna().to_numpy(), count)
    places = pool[["suburb", "postcode", "state"]].dropna().drop_duplicates().to_numpy()
    place = places[rng.integers(0, len(places), count)]
    birth = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 27_000, count), "D")
    people = pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "street_number": rng.integers(1, 300, count).astype(str),
            "address_line1": rng.choice(pool["address_1"].dropna().to_numpy(), count),
            "address_line2": _sometimes(
                rng.choice(pool["address_2"].dropna().to_numpy(), count), 0.3, rng
            ),
            "city": place[:, 0],
            "postcode": place[:, 1],
            "region": place[:, 2],
            "country": "AU",
            # CRMs often lack a birth date; households without one are the hard case.
            "date_of_birth": _sometimes(birth.strftime("%Y-%m-%d").to_numpy(), 0.85, rng),
            "organization": _sometimes(rng.choice(_ORGANIZATIONS, count), 0.3, rng),
        }
    )
    serial = np.arange(count)
    people["emails"] = [
        [f"{f}.{s}{n}@{d}"] if has else []
        for f, s, n, d, has in zip(
            first,
            last,
            serial,
            rng.choice(_EMAIL_DOMAINS, count),
            rng.random(count) < 0.7,
            strict=True,
        )
    ]
    people["phones"] = [
        [f"+614{n:08d}"] if has else []
        for n, has in zip(
            rng.choice(10**8, size=count, replace=False), rng.random(count) < 0.6, strict=True
        )
    ]
    return people


def _corrupt(record: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Apply 1-3 of the mistakes seen in real imports to a copy of ``record``."""
    copy = dict(record)
    mistakes = rng.choice(12, size=int(rng.integers(1, 4)), replace=False)
    for mistake in mistakes:
        if mistake == 0:
            copy["first_name"] = _typo(copy["first_name"], rng)
        elif mistake == 1:
            copy["last_name"] = _typo(copy["last_name"], rng)
        elif mistake == 2:
            copy["first_name"] = _nickname_of(copy["first_name"], rng)
        elif mistake == 3:
            copy["first_name"], copy["last_name"] = copy["last_name"], copy["first_name"]
        elif mistake == 4:
            copy["date_of_birth"] = None
        elif mistake == 5:
            year, month, day = (
                copy["date_of_birth"].split("-") if copy["date_of_birth"] else ("", "", "")
            )
            if year and int(day) <= 12:
                copy["date_of_birth"] = f"{year}-{day}-{month}"
        elif mistake == 6:
            copy["emails"] = []
        elif mistake == 7:
            copy["phones"] = []
        elif mistake == 8:  # moved house: a new address, identity kept by email or phone
            copy["street_number"] = str(int(rng.integers(1, 300)))
            copy["address_line1"] = _typo(str(copy["address_line1"]), rng) + " west"
            copy["postcode"] = None
            copy["city"] = None
        elif mistake == 9:
            copy["address_line1"] = _typo(str(copy["address_line1"]), rng)
        elif mistake == 10:
            copy["first_name"] = copy["first_name"][0]
        else:
            copy["emails"] = [email.upper() for email in copy["emails"]]
    return copy


def generate_base(
    people: int, *, duplicate_share: float = 0.2, household_share: float = 0.05, seed: int = 0
) -> SyntheticBase:
    """``people`` records in all, ``duplicate_share`` of them extra copies of someone."""
    rng = np.random.default_rng(seed)
    duplicates = int(people * duplicate_share)
    households = int(people * household_share)
    originals = people - duplicates - households
    base = _people(originals, rng)
    entity = list(range(originals))
    rows: list[dict[str, Any]] = [
        {str(key): value for key, value in row.items()} for row in base.to_dict("records")
    ]
    for source in rng.integers(0, originals, duplicates):
        rows.append(_corrupt(rows[int(source)], rng))
        entity.append(int(source))
    relatives = _people(households, rng).to_dict("records")
    # A spouse or child: same family name, home and landline; own name, birth, email.
    shared = ("last_name", "street_number", "address_line1", "city", "postcode", "region")
    sources = rng.integers(0, originals, households)
    for index, (relative, source) in enumerate(zip(relatives, sources, strict=True)):
        household = rows[int(source)]
        rows.append(
            {str(k): v for k, v in relative.items()}
            | {field: household[field] for field in (*shared, "phones")}
        )
        entity.append(originals + index)
    records = pd.DataFrame(rows)
    order = rng.permutation(len(records))
    records = records.iloc[order].reset_index(drop=True)
    records.insert(0, "record_id", np.arange(len(records)))
    truth = pd.Series(np.asarray(entity)[order], index=records["record_id"], name="entity")
    return SyntheticBase(records=records, entity=truth)
