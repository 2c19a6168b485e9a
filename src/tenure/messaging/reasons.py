"""A short reason in words for an outbox row, from the raw SMTP reply it quotes.

The row keeps the server's words (``550 5.1.1 <ada@example.org>: Recipient address
rejected: User unknown in virtual mailbox table``), which an admin asking the relay needs;
the outbox shows "Mailbox unknown (550 5.1.1)" first, with the raw text on demand. The
meanings are RFC 3463's enhanced status codes (RFC 5248's registry), else the basic
reply code's (RFC 5321). A reason with no SMTP code in it (consent, fatigue, quiet hours)
is already words and is shown as it is.
"""

from __future__ import annotations

import re

ENHANCED = {
    "1.0": "Bad address",
    "1.1": "Mailbox unknown",
    "1.2": "Domain unknown",
    "1.3": "Bad address syntax",
    "1.6": "Mailbox has moved",
    "1.10": "Domain accepts no mail",
    "2.0": "Mailbox unavailable",
    "2.1": "Mailbox disabled",
    "2.2": "Mailbox full",
    "2.3": "Message too large",
    "3.4": "Message too large",
    "4.1": "No answer from the recipient's server",
    "4.4": "Recipient's server not found",
    "4.7": "Delivery time expired",
    "5.3": "Too many recipients",
    "7.0": "Refused by policy",
    "7.1": "Refused by policy",
    "7.23": "Refused: SPF check failed",
    "7.25": "Refused: no reverse DNS",
    "7.26": "Refused: sender not authenticated (SPF/DKIM/DMARC)",
    "7.27": "Refused: sender domain accepts no mail",
}
BASIC = {
    421: "Server unavailable",
    450: "Mailbox busy",
    451: "Server error, try later",
    452: "Server out of storage",
    550: "Mailbox unavailable",
    551: "User not local",
    552: "Mailbox full",
    553: "Mailbox name not allowed",
    554: "Transaction failed",
}
_CODE = re.compile(r"\b([245]\d\d)(?:[ -]+([245])\.(\d{1,3})\.(\d{1,3}))?\b")
_RETRY = re.compile(r"\(attempt (\d+), will retry\)")
_UNREACHABLE = (
    "could not connect or log in to the SMTP server",
    "could not reach the SMTP server",
    "the SMTP server closed the connection",
)


def _meaning(reason: str) -> str | None:
    found = _CODE.search(reason)
    if found is None:
        return None
    code, klass, subject, detail = found.groups()
    if klass:
        words = ENHANCED.get(f"{subject}.{detail}") or BASIC.get(int(code), "Refused")
        if klass == "4" and words.startswith("Refused"):
            words = "Deferred" + words.removeprefix("Refused")  # a 4.x.x is not final
        return f"{words} ({code} {klass}.{subject}.{detail})"
    return f"{BASIC.get(int(code), 'Refused')} ({code})"


def short_reason(reason: str | None) -> str:
    """Words for ``reason`` (a status's reason on the outbox), or ``reason`` itself."""
    if not reason:
        return ""
    if any(reason.startswith(text) or f": {text}" in reason for text in _UNREACHABLE):
        short = "SMTP server unreachable"
    else:
        meaning = _meaning(reason)
        if meaning is None:
            return reason
        short = meaning
    if reason.startswith("hard bounce, address suppressed"):
        short += "; address suppressed"
    elif reason.startswith("gave up"):
        short = f"Gave up: {short}"
    retry = _RETRY.search(reason)
    if retry:
        short += f"; will retry (attempt {retry.group(1)})"
    return short
