"""API token secrets.

A token is 32 random bytes, so a fast SHA-256 digest is as safe to store as a slow argon2
hash (there is nothing to brute-force) and keeps bearer authentication cheap on every
request, the approach GitHub documents for its tokens.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "tnr_"


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters, kept in clear so a user can tell their tokens apart."""
    return token[: len(TOKEN_PREFIX) + 6]
