"""Normalizing channel identities so that one email or phone names one person.

Emails are validated without DNS look-ups and matched case-insensitively; phones are
stored in E.164. The value as given is kept beside the normalized one.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from tenure.customers.models import IdentityKind
from tenure.errors import InvalidInput


@dataclass(frozen=True)
class NormalizedIdentity:
    kind: IdentityKind
    namespace: str
    value: str
    original: str


def normalize_email_identity(raw: str, *, field: str = "email") -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(field, str(error))
    return result.normalized.lower()


def normalize_phone_identity(raw: str, *, default_region: str, field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(field, f"not a phone number ({error})")
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
