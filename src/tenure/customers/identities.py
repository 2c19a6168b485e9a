"""Normalizing channel identities so that one email or phone names one person.

Emails are validated without DNS look-ups and matched case-insensitively; phones are
stored in E.164; both through :mod:`tenure.customers.normalize`, as imports do, so that a
value typed into the API and the same value in a CSV file name the same person. The value
as given is kept beside the normalized one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, IdentityKind
from tenure.customers.normalize import NormalizationError, normalize_email, normalize_phone
from tenure.customers.schemas import IdentityIn
from tenure.errors import Conflict, InvalidInput


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


def check_identities(
    session: Session,
    identities: Sequence[IdentityIn],
    *,
    default_region: str,
    person_id: int | None,
    stored: Sequence[Identity] = (),
) -> list[tuple[NormalizedIdentity, IdentityIn]]:
    """The identities normalized and checked, in order, without repeats. One the person
    already has (``stored``, given as stored or as first given) is kept as it is: an edit
    must not re-judge a value taken under other rules (an import's, the demo's numbers
    from Ofcom's drama range) when the person only changed their job title."""
    normalized: list[tuple[NormalizedIdentity, IdentityIn]] = []
    seen: set[tuple[str, str, str]] = set()
    kept = {(i.kind, i.namespace, text): i for i in stored for text in (i.value, i.original)}
    for index, item in enumerate(identities):
        field = f"identities.{index}.value"
        same = kept.get((item.kind.value, item.namespace.strip().lower(), item.value))
        norm = (
            NormalizedIdentity(item.kind, same.namespace, same.value, same.original)
            if same is not None
            else normalize_identity(
                kind=item.kind,
                value=item.value,
                namespace=item.namespace,
                default_region=default_region,
                field=field,
            )
        )
        key = (norm.kind.value, norm.namespace, norm.value)
        if key in seen:
            continue
        seen.add(key)
        if norm.kind.value != "phone":
            owner = session.scalar(
                select(Identity.person_id).where(
                    Identity.kind == norm.kind.value,
                    Identity.namespace == norm.namespace,
                    Identity.value == norm.value,
                )
            )
            if owner is not None and owner != person_id:
                raise Conflict(
                    f"{norm.kind.value} {norm.value} belongs to person {owner}", field=field
                )
        normalized.append((norm, item))
    return normalized


def identity_rows(
    normalized: list[tuple[NormalizedIdentity, IdentityIn]],
) -> list[Identity]:
    """Identity rows with exactly one primary per kind and namespace."""
    rows: list[Identity] = []
    has_primary: set[tuple[str, str]] = set()
    for norm, item in normalized:
        group = (norm.kind.value, norm.namespace)
        if item.primary and group not in has_primary:
            has_primary.add(group)
            primary = True
        else:
            primary = False
        rows.append(
            Identity(
                kind=norm.kind.value,
                namespace=norm.namespace,
                value=norm.value,
                original=norm.original,
                label=item.label,
                is_primary=primary,
            )
        )
    for row in rows:
        group = (row.kind, row.namespace)
        if group not in has_primary:
            row.is_primary = True
            has_primary.add(group)
    return rows
