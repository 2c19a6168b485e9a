"""The key that signs session cookies and CSRF tokens when TENURE_SECRET_KEY is unset.

`tenure init` (or the first server start) generates a random key and stores it in the
database, so every process that uses the database shares it and nobody has to invent one.
``TENURE_SECRET_KEY`` overrides it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.identity.models import InstanceSecret

SESSION_KEY_NAME = "session_signing_key"


def stored_secret_key(session: Session) -> str | None:
    value = session.scalar(
        select(InstanceSecret.value).where(InstanceSecret.name == SESSION_KEY_NAME)
    )
    return None if value is None else str(value)


def ensure_secret_key(session: Session) -> str:
    """The stored signing key, generated (384 random bits) on first use.

    Two processes starting at once may both generate one: the primary key lets only the
    first insert win, and the other reads the winner's key.
    """
    existing = stored_secret_key(session)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(InstanceSecret(name=SESSION_KEY_NAME, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass
    stored = stored_secret_key(session)
    assert stored is not None
    return stored
