"""Normalization of contact fields typed by people: phone numbers, emails, names, countries.

The one implementation behind the people API, event ingestion and every importer. Every
function is pure, returns the canonical value together with the original text (so an
import can show both), and raises a subclass of :class:`NormalizationError` (itself a
``ValueError``) whose message is a sentence meant for a person reading an import report next
to the CSV line number, or an API error next to the field.

Imports call these a million times a run, so the libraries' answers are reached by fast
paths where the input's shape lets us give the same answer without them (emails of plain
ASCII, names of plain words), and cached where values repeat (phones, countries, names).
Each fast path accepts only inputs on which it provably agrees with its library and hands
everything else to the library; tests/customers/test_normalize.py cross-checks both on
thousands of generated and adversarial inputs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import email_validator
import phonenumbers
import pycountry
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from nameparser import HumanName, Lexicon
from rapidfuzz import fuzz, process

from tenure.customers.country_aliases import COUNTRY_ALIASES
from tenure.customers.phone_numbers import international_digits, international_e164


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
    return NormalizedPhone(e164=_e164(text, default_region.upper()), original=raw)


def phone_e164(text: str, region: str) -> str:
    """``normalize_phone(text, region).e164`` for stripped, non-empty text and an upper-case
    region (importers: a million calls a run, without the wrappers)."""
    return _e164(text, region)


# phonenumbers costs ~21 us a number with its pattern cache on (parse ~14 us,
# is_valid_number ~7 us, measured on "+1 202 555 0143"), every call, E.164 input included.
# A number written internationally ("+", digits, separators) is read from its digits by
# customers.phone_numbers in ~6 us, with the library's own rules (cached by digits, so
# "+1 202-555-0143" and "+12025550143" share an answer); anything else, and every invalid
# number, is the library's. Switchboards, shared lines and re-imports repeat numbers, so
# answers are kept; the cache is bounded (16,384 entries, ~3 MB) so that an import's
# memory stays flat once it is full. The library's pattern cache keeps its compiled
# metadata regexes (~11 re.compile look-ups a number): 6-13% less a number.
phonenumbers.enable_pattern_cache()


@lru_cache(maxsize=16_384)
def _e164(text: str, region: str) -> str:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"default_region {region!r} is not a known region code")
    digits = international_digits(text)
    if digits is not None and (e164 := international_e164(digits)) is not None:
        return e164
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        reason = _PHONE_PARSE_REASONS.get(error.error_type, "is not a phone number")
        raise InvalidPhoneError(f"{text!r} {reason}") from error
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        raise InvalidPhoneError(f"{text!r} is not a valid phone number in {where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- email addresses -------------------------------------------------------------------


def normalize_email(raw: str) -> NormalizedEmail:
    """Validate an email address's syntax (no DNS look-up) and normalize it.

    The domain is lowercased and internationalized domains are kept in Unicode, as
    email-validator returns them; the local part keeps its case.
    """
    text = _require_text(raw, InvalidEmailError, "email address")
    normalized = _normalized_email(text)
    return NormalizedEmail(email=normalized, match_key=normalized.lower(), original=raw)


def email_match_key(text: str) -> str:
    """``normalize_email(text).match_key`` for stripped, non-empty text (importers)."""
    return _normalized_email(text).lower()


def _normalized_email(text: str) -> str:
    normalized = _plain_ascii_email(text)
    if normalized is None:
        try:
            normalized = email_validator.validate_email(text, check_deliverability=False).normalized
        except email_validator.EmailNotValidError as error:
            raise InvalidEmailError(f"{text!r}: {error}") from error
    return normalized


# email-validator costs ~170 us an address (measured), most of it IDNA and Unicode checks
# that an ASCII address does not need. This pattern accepts only addresses on which
# email-validator 2.x provably gives the same answer (validate_email.py, syntax.py):
# a dot-atom local part of RFC 5322 atext (its DOT_ATOM_TEXT, no quotes, no Unicode) and
# LDH labels of 1-63 characters ending in an alphabetic TLD (its hostname rule, the
# "ends with a letter" TLD test, the 63-octet label limit); UTS-46 maps ASCII LDH text
# to lowercase only. The remaining rules are checked below; anything else, including
# "--" (Punycode, and its "ab--" rule), goes to the library.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LDH_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LDH_LABEL}\.)+[A-Za-z]{{2,63}})")
_MAX_EMAIL_LENGTH = 254  # RFC 3696 errata 1690, the library's whole-address limit
_MAX_LOCAL_LENGTH = 64  # RFC 5321 4.5.3.1.1, checked by the library in strict mode only


def _plain_ascii_email(text: str) -> str | None:
    """The address as email-validator normalizes it, or None to ask the library."""
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(text) > _MAX_EMAIL_LENGTH or "--" in match[2]:
        return None
    local, domain = match[1], match[2].lower()
    if len(local) > _MAX_LOCAL_LENGTH:
        return None
    # Read at call time: an application may change the library's module-level settings.
    for special in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if domain == special or domain.endswith("." + special):
            return None
    if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:  # RFC 2142: Postmaster is postmaster
        local = local.lower()
    return f"{local}@{domain}"


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


# nameparser costs ~650-800 us a name (measured), which a million-row import cannot pay for
# every first and last name column. A name of plain words -- ASCII letters and digits,
# starting with a letter, two or more characters, none of them in nameparser's vocabulary
# (titles, suffixes, particles, conjunctions, casing exceptions), none with its Mac/Mc
# prefix or a roman numeral's shape -- is only ever title-cased word by word by
# nameparser's capitalize(), and the parse keeps the words in order. Everything else asks
# nameparser.
_PLAIN_NAME_WORD = re.compile(r"[a-z][a-z0-9]+")
_MAC_PREFIX = re.compile(r"ma?c\w{2}")  # nameparser's _MAC: "mcdonald" -> "McDonald"
_ROMAN_NUMERAL = re.compile(r"(x|ix|iv|v?i{0,3})")  # nameparser's _ROMAN, for suffixes


@lru_cache(maxsize=1)
def _name_vocabulary() -> frozenset[str]:
    """Every word nameparser treats apart: each word set of its lexicon, and the casing
    exceptions. Read from all of the lexicon's sets, so a set a new release adds counts."""
    lexicon = Lexicon.default()  # what HumanName reads: Tenure never edits its CONSTANTS
    words: set[str] = set(lexicon.capitalization_exceptions_map)
    for attribute in dir(lexicon):
        value = getattr(lexicon, attribute)
        if not attribute.startswith("_") and isinstance(value, frozenset):
            words.update(value)
    return frozenset(w.casefold() for w in words)


def _is_plain_name(lowered: str) -> bool:
    vocabulary = _name_vocabulary()
    return all(
        _PLAIN_NAME_WORD.fullmatch(word)
        and word not in vocabulary
        and not _MAC_PREFIX.match(word)
        and not _ROMAN_NUMERAL.fullmatch(word)
        for word in lowered.split(" ")
    )


@lru_cache(maxsize=65_536)
def recase_name(text: str) -> str:
    """A name typed all in capitals or all in lowercase, recapitalized as
    parse_person_name does ("MCDONALD" -> "McDonald"); mixed case is kept as written.

    ``text`` has its whitespace collapsed to single spaces.
    """
    if not (text.isupper() or text.islower()):
        return text
    lowered = text.lower()
    if text.isascii() and _is_plain_name(lowered):
        return " ".join(word.capitalize() for word in lowered.split(" "))
    name = HumanName(text)
    name.capitalize(force=False)
    parts = (name.title, name.first, name.middle, name.last, name.suffix)
    return " ".join(p for p in parts if p) or text


# --- countries -------------------------------------------------------------------------

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
