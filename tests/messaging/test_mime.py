"""The hand-written MIME of ``messaging.mime`` read back by the standard library's parser:
headers encoded and folded where they must be, bodies in 7bit or quoted-printable."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tenure.messaging.mime import address_header, header, list_header, message_bytes

SUBJECT = "Ünïcödé offer: " + " ".join(["long words"] * 10)
LONG_URL = "https://crm.example.com/unsubscribe/" + "t" * 90


def _parse(data: bytes):  # type: ignore[no-untyped-def]
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed.defects == []
    return parsed


def test_headers_and_both_parts_read_back_as_written() -> None:
    headers = (
        address_header("From", '"Café Zoë, Ltd" <shop@example.com>')
        + address_header("To", "ada@example.org")
        + header("Subject", SUBJECT)
        + header("Message-ID", "<abc.tenure@example.com>")
        + list_header("List-Unsubscribe", [f"<{LONG_URL}>", "<mailto:help@example.com>"])
    )
    text = "Héllo\n.\ntrailing space \n" + "y" * 200 + "\n= sign"
    data = message_bytes(headers, text, "<p>Hi &amp; bye</p>")

    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF line ends only
    assert data.isascii()  # encoded: no 8-bit data without 8BITMIME
    parsed = _parse(data)
    assert parsed["From"].addresses[0].display_name == "Café Zoë, Ltd"
    assert parsed["To"] == "ada@example.org"
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<abc.tenure@example.com>"
    assert str(parsed["List-Unsubscribe"]) == f"<{LONG_URL}>, <mailto:help@example.com>"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain.rstrip("\n") == text
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hi &amp; bye</p>"


def test_a_short_ascii_body_is_7bit_and_html_alone_is_not_multipart() -> None:
    data = message_bytes(header("Subject", "Hi"), "", "<p>Hello</p>")
    parsed = _parse(data)
    assert parsed.get_content_type() == "text/html"
    assert parsed["Content-Transfer-Encoding"] == "7bit"
    assert parsed.get_content().strip() == "<p>Hello</p>"


def test_a_line_break_in_a_header_value_is_refused() -> None:
    with pytest.raises(ValueError):
        header("Subject", "Offer\r\nBcc: everyone@example.com")
    with pytest.raises(ValueError):
        address_header("To", "ada@example.org\nBcc: x@example.com")
