"""The built-in birthday attribute: real dates only, one stored form."""

from __future__ import annotations

import pytest

from tenure.customers.attributes import check_birthday


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1936-02-19", "1936-02-19"),
        ("19360219", "1936-02-19"),  # ISO 8601 basic form, as FEBRL and many exports write it
        (" 2000-02-29 ", "2000-02-29"),
        ("--02-29", "--02-29"),  # vCard's birthday without a year
    ],
)
def test_a_real_birthday_is_stored_as_yyyy_mm_dd(given: str, stored: str) -> None:
    assert check_birthday(given) == stored


@pytest.mark.parametrize("given", ["1990-13-45", "19901345", "1850-01-01", "2021-W01-1", "1990"])
def test_anything_else_is_refused(given: str) -> None:
    with pytest.raises(ValueError):
        check_birthday(given)
