"""The fast path for international phone numbers agrees with phonenumbers everywhere.

Every region's example numbers of every type (and the non-geographic ones), written in
E.164 and international formats and altered (a national prefix kept after the country
code, a digit changed, dropped or added, separators moved), plus random digit strings:
wherever the fast path answers, phonenumbers gives the same E.164; wherever it does not,
normalize_phone still answers as the library does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
import pytest

from tenure.customers.normalize import InvalidPhoneError, normalize_phone
from tenure.customers.phone_numbers import (
    FAST_PATH,
    international_digits,
    international_e164,
)


def library_e164(text: str, region: str) -> str | None:
    """What phonenumbers alone answers: the E.164 of a valid number, else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def example_numbers() -> Iterator[phonenumbers.PhoneNumber]:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):  # every PhoneNumberType but UNKNOWN
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                yield number
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            yield number


def variants(number: phonenumbers.PhoneNumber, rng: random.Random) -> Iterator[str]:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    code, national = str(number.country_code), e164[1 + len(str(number.country_code)) :]
    yield e164
    yield phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    yield f"+{code} 0{national}"  # the national prefix written after the country code
    yield f"+{code} ({national[:3]}) {national[3:6]}-{national[6:]}"
    yield f"+{code}.{'.'.join(national[i : i + 2] for i in range(0, len(national), 2))}"
    for _ in range(3):
        at = rng.randrange(len(national))
        yield f"+{code}{national[:at]}{rng.randrange(10)}{national[at + 1 :]}"  # changed
        yield f"+{code}{national[:at]}{national[at + 1 :]}"  # dropped
        yield f"+{code}{national[:at]}{rng.randrange(10)}{national[at:]}"  # added


def test_the_fast_path_is_available() -> None:
    assert FAST_PATH, "phonenumbers renamed a step the fast path uses"


def test_fast_answers_are_the_library_answers_for_every_region() -> None:
    rng = random.Random(42)
    texts = [text for number in example_numbers() for text in variants(number, rng)]
    texts += [
        f"+{rng.randrange(1, 10)}"
        + "".join(str(rng.randrange(10)) for _ in range(rng.randint(3, 18)))
        for _ in range(3000)
    ]
    answered = valid = 0
    for text in texts:
        digits = international_digits(text)
        assert digits is not None, text
        fast = international_e164(digits)
        expected = library_e164(text, "US")
        valid += expected is not None
        if fast is not None:
            answered += 1
            assert fast == expected, text
        for region in ("US", "GB", "DE"):
            assert library_e164(text, region) == expected, text  # "+" ignores the region
    # The fast path answers (nearly) every valid number it is given, not a token few.
    assert valid > 3000
    assert answered >= 0.99 * valid


@pytest.mark.parametrize(
    "text",
    [
        "+1 202 555 0143 ext 12",
        "+1 202 555 0143 x12",
        "+1-800-FLOWERS",
        "+1 202 555 0143;ext=5",
        "++1 202 555 0143",
        # full-width digits
        "+0 202 555 0143",
        "+\uff11 \uff12\uff10\uff12 \uff15\uff15\uff15 \uff10\uff11\uff14\uff13",
        "tel:+1-202-555-0143",
        "+1 202/555 0143",
        "+" + " " * 260 + "12025550143",
        "+123",
    ],
)
def test_text_the_fast_path_leaves_to_the_library(text: str) -> None:
    digits = international_digits(text)
    if digits is not None:  # only if its answer cannot differ: then it must agree
        assert international_e164(digits) in (None, library_e164(text, "US"))
    expected = library_e164(text, "US")
    if expected is None:
        with pytest.raises(InvalidPhoneError):
            normalize_phone(text, "US")
    else:
        assert normalize_phone(text, "US").e164 == expected


def test_errors_are_the_library_s_messages() -> None:
    with pytest.raises(InvalidPhoneError, match=r"'\+1 202 000 0000' is not a valid phone number"):
        normalize_phone("+1 202 000 0000", "US")
    with pytest.raises(InvalidPhoneError, match="unknown country calling code"):
        normalize_phone("+999 123 456", "US")


def test_formatting_variants_share_one_answer() -> None:
    answers = {
        normalize_phone(text, "GB").e164
        for text in ("+1 202 555 0143", "+1 (202) 555-0143", "+1.202.555.0143", "+12025550143")
    }
    assert answers == {"+12025550143"}
