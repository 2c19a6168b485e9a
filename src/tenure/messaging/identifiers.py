"""The stable Message-ID of an email, derived from its job's idempotency key.

Every attempt to send one message (a retry after a 4xx, a resend after a worker died
between the server's acceptance and the commit) carries the same Message-ID, so the
receiving side (and anyone reading the logs) recognises a repeat: at least once to the
SMTP server, recognisable downstream (docs/jobs.md).
"""

from __future__ import annotations

import hashlib
from email.utils import parseaddr


def email_job_key(message_id: int, person_id: int | None) -> str:
    """The idempotency key of the job that sends message ``message_id`` to the person."""
    return f"email:{message_id}:{person_id if person_id is not None else '-'}"


def domain_of(address: str) -> str:
    """The domain of an address or a "Name <address>" header ("localhost" without one)."""
    _, bare = parseaddr(address)
    return bare.rpartition("@")[2] or "localhost"


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """``<hash@domain>``: the same key and sender always give the same Message-ID."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}.tenure@{domain_of(from_address)}>"
