"""Normalization of phone numbers, emails, person names and countries."""

from __future__ import annotations

import csv
import random
import string

import email_validator
import pytest
from nameparser import HumanName

from tenure.customers.normalize import (
    Country,
    InvalidEmailError,
    InvalidNameError,
    InvalidPhoneError,
    NormalizationError,
    NormalizedEmail,
    NormalizedPhone,
    PersonName,
    UnknownCountryError,
    _is_plain_name,
    _name_vocabulary,
    _plain_ascii_email,
    normalize_country,
    normalize_email,
    normalize_phone,
    parse_person_name,
    recase_name,
)
from tenure.datasets.files import febrl_path

# --- phones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("+1 202 555 0143", "US", "+12025550143"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("(02) 9374 4000", "au", "+61293744000"),
    ],
)
def test_phone_numbers_become_e164_and_keep_the_original(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, default_region=region) == NormalizedPhone(e164=e164, original=raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("555", "not a valid phone number in US"),
        ("call me", "not a phone number"),
        ("+999 123 456", "unknown country calling code"),
        ("020 7946 0958", "not a valid phone number in US"),
        ("   ", "empty"),
    ],
)
def test_invalid_phone_numbers_raise_a_readable_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneError, match=reason):
        normalize_phone(raw)


def test_phone_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        normalize_phone("12")
    assert issubclass(InvalidPhoneError, NormalizationError)


def test_unknown_default_region_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="default_region"):
        normalize_phone("4155550100", default_region="XX")


# --- emails ----------------------------------------------------------------------------


def test_email_domain_is_lowercased_local_part_kept_match_key_lowercase() -> None:
    normalized = normalize_email("  John.Doe@Example.COM ")

    assert normalized == NormalizedEmail(
        email="John.Doe@example.com",
        match_key="john.doe@example.com",
        original="  John.Doe@Example.COM ",
    )


def test_internationalized_email_is_accepted() -> None:
    assert normalize_email("Ünïcode@exämple.de").email == "Ünïcode@exämple.de"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("bad@@example.com", "invalid characters"),
        ("no-at-sign.example.com", "@-sign"),
        ("someone@localhost", "period"),
        ("", "empty"),
    ],
)
def test_invalid_emails_raise_a_readable_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidEmailError, match=reason):
        normalize_email(raw)


def test_missing_email_is_rejected() -> None:
    with pytest.raises(InvalidEmailError, match="missing"):
        normalize_email(None)  # type: ignore[arg-type]


# --- names -----------------------------------------------------------------------------


def test_full_name_is_split_into_parts() -> None:
    assert parse_person_name("Dr. John A. Smith Jr.") == PersonName(
        title="Dr.",
        first="John",
        middle="A.",
        last="Smith",
        suffix="Jr.",
        original="Dr. John A. Smith Jr.",
    )


def test_last_comma_first_is_understood() -> None:
    name = parse_person_name("van der Berg, Jan Pieter")

    assert (name.first, name.middle, name.last) == ("Jan", "Pieter", "van der Berg")


def test_all_caps_names_are_recapitalized_but_mixed_case_is_kept() -> None:
    assert parse_person_name("JOHN MCDONALD").last == "McDonald"
    assert parse_person_name("danah boyd").first == "Danah"
    assert parse_person_name("Jan deWitt").last == "deWitt"


def test_single_word_is_a_given_name() -> None:
    name = parse_person_name("Madonna")

    assert (name.first, name.last) == ("Madonna", "")


@pytest.mark.parametrize(
    ("raw", "reason"), [("", "empty"), ("12345", "no letters"), ("Dr.", "no given or family")]
)
def test_unreadable_names_raise(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNameError, match=reason):
        parse_person_name(raw)


# --- countries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "alpha2"),
    [
        ("DE", "DE"),
        ("deu", "DE"),
        ("276", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("germny", "DE"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Côte d'Ivoire", "CI"),
        ("Korea, Republic of", "KR"),
        ("Austria", "AT"),
        ("Australia", "AU"),
    ],
)
def test_countries_are_identified_from_codes_and_names(raw: str, alpha2: str) -> None:
    assert normalize_country(raw) == Country(alpha2=alpha2, original=raw)


def test_country_has_a_display_name() -> None:
    assert normalize_country("uk").name == "United Kingdom"


@pytest.mark.parametrize(
    "raw", ["garbage", "xyz", "ZZ", "EU", "Austr", "Nowhere land", "banana republic", " "]
)
def test_garbage_is_not_guessed_as_a_country(raw: str) -> None:
    with pytest.raises(UnknownCountryError):
        normalize_country(raw)


# --- fast paths agree with the libraries -----------------------------------------------
# The email and name fast paths answer without email-validator / nameparser on inputs of a
# plain shape; on every input below, normalize_email and recase_name must give what the
# library alone gives (the same value, or an error), and the fast path must have been
# taken often enough that the comparison means something.

_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
_LDH = string.ascii_letters + string.digits + "-"
_NASTY = [".", "..", "-", "--", "@", '"', " ", "\\", "<", ">", "[", "]", "(", ")", ",", ";"]
_NASTY += [":", "é", "ß", "İ", "\u200b", "\u0301", "\uff20", "\u00a0", "\t", "xn--", "1"]
_SPECIAL_TLDS = ["test", "local", "localhost", "invalid", "onion", "arpa", "example", "c0m"]
_TLDS = ["com", "org", "net", "io", "DE", "Co", "uk", "museum", "x", "a" * 63, "a" * 64]
_TLDS += ["com", "de", "fr", "info"]


def _library_email(text: str) -> str | Exception:
    try:  # normalize_email strips the text first, as it always has
        return email_validator.validate_email(text.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as error:
        return error


def _ours_email(text: str) -> str | Exception:
    try:
        return normalize_email(text).email
    except InvalidEmailError as error:
        return error


def _generated_emails(rng: random.Random, count: int) -> list[str]:
    emails = []
    for _ in range(count):
        local = ".".join(
            "".join(rng.choices(_ATEXT, k=rng.randint(1, 12))) for _ in range(rng.randint(1, 3))
        )
        if rng.random() < 0.1:
            local = rng.choice(["Postmaster", "INFO", "Sales", "abuse", "WWW"])
        labels = [
            "".join(rng.choices(_LDH, k=rng.choice([1, 2, 3, 5, 8, 10, 62, 63, 64])))
            for _ in range(rng.randint(1, 3))
        ]
        tld = rng.choice(_SPECIAL_TLDS if rng.random() < 0.2 else _TLDS)
        email = f"{local}@{'.'.join([*labels, tld])}"
        for _ in range(rng.choice([0, 0, 0, 1, 2])):  # mutate two in five
            at = rng.randint(0, len(email))
            email = email[:at] + rng.choice(_NASTY) + email[at + rng.randint(0, 1) :]
        emails.append(email)
    return emails


_EDGE_EMAILS = [
    "a@b.co",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@ab--cd.com",
    "a@xn--bcher-kva.de",
    "a@example.c",
    "a@example.123",
    "a@localhost",
    "a@foo.test",
    "a@foo.local",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
    "x@" + ".".join(["a" * 60] * 4) + ".com",
    "x" * 200 + "@" + "a" * 49 + ".com",
    "x" * 201 + "@" + "a" * 49 + ".com",
    '"quoted"@example.com',
    "Name <a@example.com>",
    "a@[127.0.0.1]",
    "POSTMASTER@Example.COM",
]


def test_email_fast_path_agrees_with_email_validator() -> None:
    rng = random.Random(20260401)
    inputs = _EDGE_EMAILS + _generated_emails(rng, 4000)
    fast = 0
    for text in inputs:
        expected, got = _library_email(text), _ours_email(text)
        if isinstance(expected, Exception):
            assert isinstance(got, Exception), text
        else:
            assert got == expected, text
        fast += _plain_ascii_email(text) is not None
    assert 1000 < fast < len(inputs) - 1000  # both paths were exercised


def _library_recase(text: str) -> str:
    name = HumanName(text)
    name.capitalize(force=False)
    parts = (name.title, name.first, name.middle, name.last, name.suffix)
    return " ".join(p for p in parts if p) or text


def _name_words() -> list[str]:
    words: set[str] = set()
    for number in (1, 2):
        with febrl_path(number).open() as handle:
            for row in csv.DictReader(handle, skipinitialspace=True):
                words.update(w for w in (row["given_name"], row["surname"]) if w)
    rng = random.Random(7)
    chosen = rng.sample(sorted(words), 1200)
    vocabulary = sorted(w for w in _name_vocabulary() if w.isascii() and w.isalpha())
    chosen += rng.sample(vocabulary, 300)
    chosen += ["mcdonald", "macey", "mack", "mc", "ii", "iv", "x", "vi", "j", "a1", "li"]
    chosen += ["o'brien", "smith-jones", "st.john", "first123", "123abc", "ng", "y", "dr"]
    return chosen


def test_name_fast_path_agrees_with_nameparser() -> None:
    rng = random.Random(11)
    words = _name_words()
    inputs = [w for word in words for w in (word.lower(), word.upper())]
    for _ in range(600):
        name = " ".join(rng.sample(words, rng.randint(2, 4)))
        inputs.append(name.upper() if rng.random() < 0.5 else name.lower())
    fast = 0
    for text in inputs:
        assert recase_name(text) == _library_recase(text), text
        fast += _is_plain_name(text.lower())
    assert 1000 < fast < len(inputs) - 500  # both paths were exercised


def test_mixed_case_names_are_kept_as_written() -> None:
    assert recase_name("deWitt") == "deWitt"
    assert recase_name("MCDONALD") == "McDonald"


def test_repeated_phone_numbers_are_answered_alike_and_errors_are_not_cached() -> None:
    first = normalize_phone("+1 202 555 0143", "US")
    assert normalize_phone("+1 202 555 0143", "us") == first
    for _ in range(2):
        with pytest.raises(InvalidPhoneError, match="not a valid phone number"):
            normalize_phone("555", "US")
