"""Normalization of phone numbers, emails, person names and countries."""

from __future__ import annotations

import pytest

from tenure.ingest.normalize import (
    Country,
    InvalidEmailError,
    InvalidNameError,
    InvalidPhoneError,
    NormalizationError,
    NormalizedEmail,
    NormalizedPhone,
    PersonName,
    UnknownCountryError,
    normalize_country,
    normalize_email,
    normalize_phone,
    parse_person_name,
)

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
