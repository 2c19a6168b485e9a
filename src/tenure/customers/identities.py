"""Normalizing channel identities so that one email or phone names one person.

Emails are validated without DNS look-ups and matched case-insensitively; phones are
stored in E.164; both through :mod:`tenure.customers.normalize`, as imports do, so that a
value typed into the API and the same value in a CSV file name the same person. The value
as given is kept beside the normalized one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenure.customers.models import IdentityKind
from tenure.customers.normalize import NormalizationError, normalize_email, normalize_phone
from tenure.errors import InvalidInput


@dataclass(frozen=True)
class NormalizedIdentity:
    kind: IdentityKind
    namespace: str
    value: str
    original: str


def normalize_email_identity(raw: str, *, field: str = "email") -> str:
    """The email's match key (fully lowercased); InvalidInput names ``field`` if invalid."""
    try:
        return normalize_email(raw).match_key
    except NormalizationError as error:
        raise InvalidInput(field, str(error)) from error


def normalize_phone_identity(raw: str, *, default_region: str, field: str = "phone") -> str:
    """The phone in E.164; InvalidInput names ``field`` if it is not a valid number."""
    try:
        return normalize_phone(raw, default_region).e164
    except NormalizationError as error:
        raise InvalidInput(field, str(error)) from error


def normalize_identity(
    *, kind: IdentityKind, value: str, namespace: str, default_region: str, field: str
) -> NormalizedIdentity:
    original = value
    if kind == IdentityKind.email:
        return NormalizedIdentity(kind, "", normalize_email_identity(value, field=field), original)
    if kind == IdentityKind.phone:
        normalized = normalize_phone_identity(value, default_region=default_region, field=field)
        return NormalizedIdentity(kind, "", normalized, original)
    if not namespace:
        raise InvalidInput(
            field.rsplit(".", 1)[0] + ".namespace",
            "is required for social handles (the network) and external ids (the system)",
        )
    namespace = namespace.strip().lower()
    if kind == IdentityKind.social:
        # Handles are case-insensitive on the major networks; "@" is decoration.
        return NormalizedIdentity(kind, namespace, value.strip().lstrip("@").lower(), original)
    return NormalizedIdentity(kind, namespace, value.strip(), original)
