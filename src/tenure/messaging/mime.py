"""Writing MIME messages as bytes, without the email package's object model on the
common path.

Profiled (bench/messaging.py): building an ``EmailMessage`` with the default policy and
flattening it cost ~3 ms a message, most of it parsing each header back into the header
registry's objects and compiling a regular expression per multipart boundary. Here a
header that is ASCII, on one line and short enough (78 characters with its name) is
written as it is; anything else (a non-ASCII subject or display name, a long value) goes
through ``email.policy.SMTP.fold``, the standard library's own RFC 5322 / RFC 2047
folding and encoding. Bodies are UTF-8, sent ``7bit`` when they are ASCII with short
lines and ``quoted-printable`` otherwise (never raw 8-bit, which needs the server's
8BITMIME), encoded by ``binascii.b2a_qp``. Line ends are CRLF throughout.
"""

from __future__ import annotations

import binascii
import re
import uuid
from email.policy import SMTP

#: RFC 5322: lines SHOULD be at most 78 characters (without CRLF).
LINE = 78


_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
# A bare address with nothing to quote (``To``): letters, digits and the usual marks.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _folded(name: str, value: str) -> str:
    """What ``EmailMessage`` does with a header: parsed into the header registry's
    object (a line break in the value raises ValueError: no header injection), then
    folded and encoded (RFC 2047) by ``email.policy.SMTP``."""
    return SMTP.fold(*SMTP.header_store_parse(name, value))


def header(name: str, value: str) -> str:
    """An unstructured header (``Subject``, ``Date``, ``Message-ID``) with its CRLF:
    printable ASCII that fits a line as it is, anything else folded and encoded."""
    if len(name) + 2 + len(value) <= LINE and _PLAIN.fullmatch(value):
        return f"{name}: {value}\r\n"
    return _folded(name, value)


def address_header(name: str, value: str) -> str:
    """An address header: a bare address as it is; a display name (quoting, encoding)
    through the standard library's address parser."""
    if len(name) + 2 + len(value) <= LINE and _ADDRESS.fullmatch(value):
        return f"{name}: {value}\r\n"
    return _folded(name, value)


def list_header(name: str, items: list[str]) -> str:
    """A comma-separated header (``List-Unsubscribe``): one item per line when long."""
    value = ", ".join(items)
    if len(name) + 2 + len(value) <= LINE:
        return f"{name}: {value}\r\n"
    return f"{name}: " + ",\r\n ".join(items) + "\r\n"


def _seven_bit(text: str) -> bool:
    return text.isascii() and all(len(line) <= LINE for line in text.split("\n"))


def text_part(text: str, subtype: str) -> tuple[str, bytes]:
    """The part's headers and its encoded body (CRLF line ends)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _seven_bit(text):
        encoding, body = "7bit", text.encode("ascii")
    else:
        encoding = "quoted-printable"
        body = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    if not body.endswith(b"\n"):
        body += b"\n"
    headers = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n"
    )
    return headers, body.replace(b"\n", b"\r\n")


def _boundary(parts: list[bytes]) -> str:
    while True:
        boundary = f"=_tenure_{uuid.uuid4().hex}"
        marker = boundary.encode()
        if not any(marker in part for part in parts):
            return boundary


def message_bytes(headers: str, text: str, html: str) -> bytes:
    """The whole message: ``headers`` (CRLF-terminated lines), then a text/plain part,
    a text/html part, or both as multipart/alternative (plain first, as RFC 2046 asks)."""
    parts = [
        text_part(body, subtype) for body, subtype in ((text, "plain"), (html, "html")) if body
    ]
    head = headers + "MIME-Version: 1.0\r\n"
    if len(parts) == 1:
        part_headers, body = parts[0]
        return (head + part_headers + "\r\n").encode("ascii") + body
    boundary = _boundary([body for _, body in parts])
    out = [
        (head + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n').encode(
            "ascii"
        )
    ]
    for part_headers, body in parts:
        out.append(f"--{boundary}\r\n{part_headers}\r\n".encode("ascii"))
        out.append(body)
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(out)
