"""Which permanent SMTP failures say the address itself is bad.

A 5xx is final, but not every 5xx condemns the address: ``550 5.7.1`` is a policy or
spam refusal of this message. The address is suppressed when the enhanced status code
(RFC 3463) is about the address or the mailbox (``5.1.x``: bad mailbox, domain or
address syntax; ``5.2.1``: mailbox disabled), or, for servers that send none, when the
basic code is 550, 551 or 553 at the recipient. Listmonk #1334 / #2623: a ``550 5.1.1``
at send time was not treated as a hard bounce, and the address kept being mailed.
"""

from __future__ import annotations

import re

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def enhanced_code(reply: str) -> str | None:
    match = _ENHANCED.search(reply)
    return ".".join(match.groups()) if match else None


def condemns_address(code: int, reply: str) -> bool:
    enhanced = enhanced_code(reply)
    if enhanced is not None:
        return enhanced.startswith("5.1.") or enhanced == "5.2.1"
    return code in (550, 551, 553)
