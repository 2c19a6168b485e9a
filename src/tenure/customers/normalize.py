"""Normalization of contact fields typed by people: phone numbers, emails, names, countries.

Every function is pure, returns the canonical value together with the original text (so an
import can show both), and raises a subclass of :class:`NormalizationError` (itself a
``ValueError``) whose message is a sentence meant for a person reading an import report next
to the CSV line number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import email_validator
import phonenumbers
import pycountry
from nameparser import HumanName
from rapidfuzz import fuzz, process


class NormalizationError(ValueError):
    """A value could not be normalized; ``str(error)`` is a reason a user can read."""


class InvalidPhoneError(NormalizationError):
    """The text is not a valid phone number."""


class InvalidEmailError(NormalizationError):
    """The text is not a valid email address."""


class InvalidNameError(NormalizationError):
    """The text cannot be read as a person's name."""


class UnknownCountryError(NormalizationError):
    """The text does not name a country we can identify with confidence."""


@dataclass(frozen=True, slots=True)
class NormalizedPhone:
    e164: str
    original: str


@dataclass(frozen=True, slots=True)
class NormalizedEmail:
    """``email`` keeps the local part as written (RFC 5321 says it may be case-sensitive);
    ``match_key`` is fully lowercased, because in practice mailboxes are not, and it is the
    key used to recognise the same person."""

    email: str
    match_key: str
    original: str


@dataclass(frozen=True, slots=True)
class PersonName:
    title: str
    first: str
    middle: str
    last: str
    suffix: str
    original: str


@dataclass(frozen=True, slots=True)
class Country:
    alpha2: str
    original: str

    @property
    def name(self) -> str:
        country = pycountry.countries.get(alpha_2=self.alpha2)
        return str(country.name) if country is not None else self.alpha2


def _require_text(raw: object, error: type[NormalizationError], what: str) -> str:
    if raw is None or not isinstance(raw, str):
        raise error(f"{what} is missing")
    text = raw.strip()
    if not text:
        raise error(f"{what} is empty")
    return text


# --- phone numbers ---------------------------------------------------------------------

_PHONE_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country calling code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "is not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short",
    phonenumbers.NumberParseException.TOO_LONG: "is too long",
}


def normalize_phone(raw: str, default_region: str = "US") -> NormalizedPhone:
    """Parse a phone number and return it in E.164 form (``+14155550100``).

    Numbers written without a ``+country`` prefix are read as numbers of ``default_region``
    (an ISO 3166 alpha-2 code). Numbers that parse but cannot exist (wrong length for the
    country, unassigned prefix) are rejected.
    """
    text = _require_text(raw, InvalidPhoneError, "phone number")
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"default_region {default_region!r} is not a known region code")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        reason = _PHONE_PARSE_REASONS.get(error.error_type, "is not a phone number")
        raise InvalidPhoneError(f"{text!r} {reason}") from error
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        raise InvalidPhoneError(f"{text!r} is not a valid phone number in {where}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedPhone(e164=e164, original=raw)


# --- email addresses -------------------------------------------------------------------


def normalize_email(raw: str) -> NormalizedEmail:
    """Validate an email address's syntax (no DNS look-up) and normalize it.

    The domain is lowercased and internationalized domains are kept in Unicode, as
    email-validator returns them; the local part keeps its case.
    """
    text = _require_text(raw, InvalidEmailError, "email address")
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise InvalidEmailError(f"{text!r}: {error}") from error
    normalized = result.normalized
    return NormalizedEmail(email=normalized, match_key=normalized.lower(), original=raw)


# --- person names ----------------------------------------------------------------------


def parse_person_name(raw: str) -> PersonName:
    """Split a full name into title, first, middle, last and suffix.

    Reads both "First Middle Last" and "Last, First Middle". Names typed all in capitals or
    all in lowercase are recapitalized ("JOHN MCDONALD" -> "John McDonald"); mixed case is
    kept as written, since people spell their own names.
    """
    text = _require_text(raw, InvalidNameError, "name")
    if not any(character.isalpha() for character in text):
        raise InvalidNameError(f"{text!r} has no letters, so it cannot be a name")
    name = HumanName(text)
    name.capitalize(force=False)
    if not (name.first or name.last):
        raise InvalidNameError(f"{text!r} has only a title or suffix, no given or family name")
    return PersonName(
        title=name.title,
        first=name.first,
        middle=name.middle,
        last=name.last,
        suffix=name.suffix,
        original=raw,
    )


# --- countries -------------------------------------------------------------------------

# Everyday and native names that pycountry's ISO 3166 names do not cover. Kept small on
# purpose: each entry is a name people really type, checked against its ISO code.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "united states": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "deutschland": "DE",
    "holland": "NL",
    "nederland": "NL",
    "the netherlands": "NL",
    "espana": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "brasil": "BR",
    "polska": "PL",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "nippon": "JP",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "ivory coast": "CI",
    "czechia": "CZ",
    "uae": "AE",
    "turkey": "TR",
    "vatican": "VA",
    "macedonia": "MK",
    "burma": "MM",
    "laos": "LA",
    "syria": "SY",
    "moldova": "MD",
    "tanzania": "TZ",
    "venezuela": "VE",
    "palestine": "PS",
}

# A typo of a country name scores 90+ with rapidfuzz's ratio ("germny" -> "germany" 92.3),
# while unrelated words rarely pass 70; requiring a clear lead over the runner-up keeps
# near-ties such as "austr" (Austria vs Australia) from being guessed.
_FUZZY_MIN_SCORE = 88.0
_FUZZY_MIN_LEAD = 6.0


def _fold(text: str) -> str:
    """Casefold, strip accents and punctuation, collapse spaces: "U.S.A." -> "usa"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    without_dots = without_accents.replace(".", "")
    return " ".join(re.sub(r"[^\w\s]", " ", without_dots).split())


def _build_country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[_fold(str(value))] = str(country.alpha_2)
    names.update(COUNTRY_ALIASES)
    return names


_COUNTRY_NAMES = _build_country_names()
_COUNTRY_NAME_KEYS = list(_COUNTRY_NAMES)


def normalize_country(raw: str) -> Country:
    """Identify a country from an ISO code (alpha-2, alpha-3, numeric) or a name.

    Accepts ISO names, official and common names, a few everyday and native names ("UK",
    "USA", "Deutschland") and small typos ("Germny"). Text that does not clearly name one
    country raises :class:`UnknownCountryError` rather than guessing.
    """
    text = _require_text(raw, UnknownCountryError, "country")
    folded = _fold(text)
    if folded in _COUNTRY_NAMES:
        return Country(alpha2=_COUNTRY_NAMES[folded], original=raw)
    compact = folded.replace(" ", "")
    country = None
    if compact.isdigit():
        country = pycountry.countries.get(numeric=compact.zfill(3))
    elif compact.isalpha() and len(compact) == 2:
        country = pycountry.countries.get(alpha_2=compact.upper())
    elif compact.isalpha() and len(compact) == 3:
        country = pycountry.countries.get(alpha_3=compact.upper())
    if country is not None:
        return Country(alpha2=str(country.alpha_2), original=raw)
    if len(folded) >= 4:
        best = process.extract(folded, _COUNTRY_NAME_KEYS, scorer=fuzz.ratio, limit=8)
        if best and best[0][1] >= _FUZZY_MIN_SCORE:
            winner = _COUNTRY_NAMES[best[0][0]]
            runner_up = max(
                (score for name, score, _ in best[1:] if _COUNTRY_NAMES[name] != winner),
                default=0.0,
            )
            if best[0][1] - runner_up >= _FUZZY_MIN_LEAD:
                return Country(alpha2=winner, original=raw)
    raise UnknownCountryError(f"{text!r} is not a country we recognise")
