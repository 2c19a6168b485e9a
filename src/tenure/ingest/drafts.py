"""What one source record becomes before it meets the database: a draft person or company.

Every importer (CSV, vCard, JSON lines) turns its records into drafts with the helpers
below, which normalize each value (phones to E.164, emails validated, names split,
countries to ISO 3166 alpha-2) and keep the value as written beside it. A value that
cannot be normalized becomes a :class:`Problem` naming its column; the runner rejects a
draft with any problem, whole, so that fixing the file and importing it again brings the
row in complete rather than leaving a half-imported record behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from tenure.customers.attributes import check_birthday
from tenure.customers.models import AttributeDefinition, AttributeType
from tenure.customers.normalize import (
    NormalizationError,
    email_match_key,
    normalize_country,
    parse_person_name,
    phone_e164,
    recase_name,
)

# Attributes the importers fill from well-known columns; declared as text on first use so
# that they show in the app like any custom attribute. ``*_original`` keeps what the file
# said beside the normalized value.
BUILTIN_ATTRIBUTES: dict[str, tuple[str, AttributeType]] = {
    "country": ("Country (ISO 3166)", AttributeType.text),
    "country_original": ("Country as imported", AttributeType.text),
    "city": ("City", AttributeType.text),
    "region": ("State / region", AttributeType.text),
    "postal_code": ("Postal code", AttributeType.text),
    "street": ("Street address", AttributeType.text),
    "website": ("Website", AttributeType.text),
    "birthday": ("Birthday", AttributeType.text),
}


@dataclass(frozen=True, slots=True)
class Problem:
    column: str
    reason: str


class IdentityValue(NamedTuple):
    """A tuple, not a frozen dataclass: an import builds two or three a row, and a frozen
    dataclass sets each field through object.__setattr__ (~1.5 us against ~0.3 us)."""

    kind: str
    namespace: str
    value: str
    original: str
    column: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.value)


@dataclass(frozen=True, slots=True)
class ConsentValue:
    channel: str
    purpose: str
    status: str
    source: str


@dataclass(slots=True)
class PersonDraft:
    line: int
    first_name: str = ""
    last_name: str = ""
    job_title: str | None = None
    organization: str | None = None
    # (namespace, id) of the organization in the source system, e.g. Salesforce AccountId.
    organization_ref: tuple[str, str] | None = None
    identities: list[IdentityValue] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    consents: list[ConsentValue] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add_identity(self, identity: IdentityValue) -> None:
        if len(identity.value) > 320:
            self.problems.append(Problem(identity.column, "is longer than 320 characters"))
        elif not any(i[:3] == identity[:3] for i in self.identities):
            self.identities.append(identity)


@dataclass(slots=True)
class OrganizationDraft:
    line: int
    name: str = ""
    domain: str | None = None
    external_ids: list[tuple[str, str]] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


Draft = PersonDraft | OrganizationDraft


def clean(raw: str | None) -> str:
    return (raw or "").strip()


def add_email(draft: PersonDraft, raw: str, column: str) -> None:
    text = clean(raw)
    if not text:
        return
    try:
        match_key = email_match_key(text)
    except NormalizationError as error:
        draft.problems.append(Problem(column, str(error)))
        return
    # The match key (fully lowercased) is the identity value, as the people API stores it.
    draft.add_identity(IdentityValue("email", "", match_key, text, column))


def add_phone(draft: PersonDraft, raw: str, column: str, region: str) -> None:
    text = clean(raw)
    if not text:
        return
    try:
        phone = phone_e164(text, region.upper())  # cached there: shared lines repeat
    except NormalizationError as error:
        draft.problems.append(Problem(column, str(error)))
        return
    draft.add_identity(IdentityValue("phone", "", phone, text, column))


def add_external_id(draft: PersonDraft, raw: str, namespace: str, column: str) -> None:
    text = clean(raw)
    if text:
        draft.add_identity(IdentityValue("external", namespace.lower(), text, text, column))


def add_social(draft: PersonDraft, raw: str, network: str, column: str) -> None:
    text = clean(raw)
    if text:
        # Handles are case-insensitive on the major networks; "@" is decoration.
        handle = text.lstrip("@").lower()
        draft.add_identity(IdentityValue("social", network.lower(), handle, text, column))


@lru_cache(maxsize=1024)
def _country(text: str) -> str:
    # A file names a few hundred countries at most, each thousands of times.
    return normalize_country(text).alpha2


def set_country(attributes: dict[str, Any], problems: list[Problem], raw: str, column: str) -> None:
    text = clean(raw)
    if not text:
        return
    try:
        attributes["country"] = _country(text)
    except NormalizationError as error:
        problems.append(Problem(column, str(error)))
        return
    attributes["country_original"] = text


def set_birthday(
    attributes: dict[str, Any], problems: list[Problem], raw: str, column: str
) -> None:
    text = clean(raw)
    if not text:
        return
    try:
        attributes["birthday"] = check_birthday(text)
    except ValueError as error:
        problems.append(Problem(column, str(error)))


@lru_cache(maxsize=65536)
def _full_name(text: str) -> tuple[str, str]:
    name = parse_person_name(text)
    first = " ".join(part for part in (name.first, name.middle) if part)
    last = " ".join(part for part in (name.last, name.suffix) if part)
    return first, last


def set_full_name(draft: PersonDraft, raw: str, column: str) -> None:
    text = clean(raw)
    if not text:
        return
    try:
        first, last = _full_name(text)
    except NormalizationError as error:
        draft.problems.append(Problem(column, str(error)))
        return
    # Separate first/last columns, when the file has them too, win over the split.
    draft.first_name = draft.first_name or first
    draft.last_name = draft.last_name or last


@lru_cache(maxsize=65_536)
def name_part(raw: str, limit: int = 200) -> str:
    # Cached whole: a file's first and last names repeat (thousands of distinct among
    # a million rows), and splitting and joining each cost more than the look-up.
    text = " ".join(clean(raw).split())
    return recase_name(text)[:limit] if text else ""


_TRUE = frozenset({"true", "yes", "y", "1", "x", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off", ""})


def coerce_cell(definition: AttributeDefinition, text: str) -> Any:
    """The typed value of a CSV cell for a declared attribute; ValueError says why not."""
    kind = AttributeType(definition.type)
    if kind == AttributeType.text:
        return text
    if kind == AttributeType.number:
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"{text!r} is not a number")
        return int(number) if number.is_integer() and "." not in text else number
    if kind == AttributeType.boolean:
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ValueError(f"{text!r} is not yes/no or true/false")
    if kind == AttributeType.date:
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    choices = definition.choices or []
    if text not in choices:
        raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
    return text


def split_tags(raw: str) -> list[str]:
    return [t.strip()[:100] for t in raw.replace(";", ",").split(",") if t.strip()]


def person_name_key(first: str, last: str) -> str:
    """Names compared for probable duplicates: casefolded, whitespace collapsed."""
    return " ".join(f"{first} {last}".casefold().split())
