"""International phone numbers to E.164 without phonenumbers' general front end.

``phonenumbers.parse`` reads any text: it looks for a number inside it, strips extensions,
international dialling prefixes and RFC 3966 parameters, converts letters and Unicode
digits, and only then splits off the country calling code (~14 us a number, measured on
"+1 202 555 0143"); ``is_valid_number`` then runs the number type patterns twice for a
country code shared by several regions (NANPA's +1, +7, +44: ~7 us). Contacts exported by
CRMs mostly hold numbers already written internationally, ``+`` and digits with spaces,
dots, dashes or parentheses, for which all that front end does nothing: the answer depends
on the digits alone. :func:`international_e164` computes it from the digits with the
library's own steps after the front end (country code, national prefix, length) and its
validity rules (type patterns asked likeliest first, once), in ~5 us; it answers only
valid numbers and returns None for anything else, which the caller then asks phonenumbers
about (so every error message is the library's). tests/customers/test_phone_numbers.py
checks it against phonenumbers on the example numbers of every region, altered in many
ways (about 10,000 valid numbers, each answered alike).

The steps are private functions of phonenumbers; if a release renames one, the fast path
turns itself off (``FAST_PATH`` is False) rather than guess.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber
from phonenumbers import phonenumberutil as _util

# "+" then digits and the separators people type between them; any other character
# (letters, "ext", ";", "/", Unicode digits, a second "+") is the library's to read.
_INTERNATIONAL = re.compile(r"\+[0-9 ().-]+")
_SEPARATORS = str.maketrans("", "", " ().-")
_MAX_DIGITS = 20  # a country code of up to 3 digits and a national number of up to 17
_MAX_TEXT = 250  # longer text is refused by parse ("too long") before anything else

_STEPS = (
    "_extract_country_code",
    "_maybe_strip_national_prefix_carrier_code",
    "_test_number_length",
    "_set_italian_leading_zeros_for_phone_number",
    "_is_number_matching_desc",
    "country_code_for_valid_region",
    "ValidationResult",
    "COUNTRY_CODE_TO_REGION_CODE",
)
FAST_PATH = all(hasattr(_util, name) for name in _STEPS)
if FAST_PATH:
    _KEEP_PREFIX = (
        _util.ValidationResult.TOO_SHORT,
        _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        _util.ValidationResult.INVALID_LENGTH,
    )


def international_digits(text: str) -> str | None:
    """The digits after the "+" of an international number written plainly, else None."""
    if len(text) > _MAX_TEXT or not _INTERNATIONAL.fullmatch(text):
        return None
    digits = text[1:].translate(_SEPARATORS)
    return digits if 3 < len(digits) <= _MAX_DIGITS and digits[0] != "0" else None


@lru_cache(maxsize=16_384)
def international_e164(digits: str) -> str | None:
    """E.164 of the valid number "+<digits>" as phonenumbers gives it, else None.

    The steps of ``phonenumbers.parse`` for a number that starts with "+" and holds only
    ASCII digits once its separators are removed (no extension, no IDD, nothing to
    convert), then ``is_valid_number`` and ``format_number(..., E164)``.
    """
    if not FAST_PATH:
        return None
    country_code, national = _util._extract_country_code(digits)
    if country_code == 0:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, _util.region_code_for_country_code(country_code)
    )
    if metadata is None or len(national) < _util._MIN_LENGTH_FOR_NSN:
        return None
    _, stripped, _ = _util._maybe_strip_national_prefix_carrier_code(national, metadata)
    if _util._test_number_length(stripped, metadata) not in _KEEP_PREFIX:
        national = stripped
    if not _util._MIN_LENGTH_FOR_NSN <= len(national) <= _util._MAX_LENGTH_FOR_NSN:
        return None
    number = PhoneNumber(country_code=country_code)
    _util._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    if not _is_valid(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_valid(number: PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, with the type patterns run once, likeliest first.

    The library finds the number's region (for a country code shared by several regions,
    by leading digits or by the type patterns matching) and then checks the number
    against that region's patterns again. A region found by its patterns is the answer.
    """
    country_code = number.country_code or 0
    regions = _util.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return False
    national = phonenumbers.national_significant_number(number)
    if len(regions) == 1:
        return _valid_for_region(national, country_code, regions[0])
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.match(metadata.leading_digits, national):
                return _valid_for_region(national, country_code, region)
        elif _has_type(national, metadata):
            return True
    return False


def _valid_for_region(national: str, country_code: int, region: str) -> bool:
    """``phonenumbers.is_valid_number_for_region`` on the national significant number."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
        and country_code != _util.country_code_for_valid_region(region)
    ):
        return False
    return _has_type(national, metadata)


def _has_type(national: str, metadata: PhoneMetadata) -> bool:
    """``_number_type_helper(national, metadata) != UNKNOWN``, asking the likeliest types
    first: the library tries premium rate, toll free, shared cost, VoIP, personal, pager,
    UAN and voicemail before fixed line and mobile, so an ordinary number ran ten patterns.

    The library checks mobile only when its pattern differs from fixed line's; so does this
    (with the same pattern a mobile desc could still differ in its possible lengths).
    """
    matches = _util._is_number_matching_desc
    if not matches(national, metadata.general_desc):
        return False
    if matches(national, metadata.fixed_line):
        return True
    if not metadata.same_mobile_and_fixed_line_pattern and matches(national, metadata.mobile):
        return True
    return any(
        matches(national, desc)
        for desc in (
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
        )
    )
