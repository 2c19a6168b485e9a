"""Global search: people (by name, email or phone in any format), organizations, segments.

Behind the top bar's search box (results as you type) and ``/search``. Built to answer in
a few milliseconds on a base of tens of thousands of people, so each group is a bounded
look-up, most first on an index:

1. **phone**: a text made of digits and phone punctuation is normalized with the project's
   phone rules (``customers.normalize``, the workspace's default region) and looked up
   exactly on ``identities (kind, value)``; while the number is still being typed, its
   digits so far are a prefix range on the same index ("+1 415 55" finds "+1415555...").
2. **email**: a prefix range on ``identities (kind, value)`` (emails are stored lowercased).
3. **last name**: a prefix range on ``people (last_name, id)``.
4. only when those found fewer than the limit: a substring of the lowercased names and
   identities (``people.search_text``), which finds "john hug" or a middle of an email;
   not indexed, but it stops at the limit and costs one scan when nothing matches.

Organizations match on name (substring, any case) or domain (prefix), segments on name.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, IdentityKind, Organization, Person
from tenure.customers.normalize import NormalizationError, normalize_phone
from tenure.db.search import LIKE_ESCAPE, SEARCH_MAX_CHARS, contains_text, escape_like
from tenure.errors import InvalidInput
from tenure.segments.models import Segment

MAX_PER_GROUP = 50
_PHONE_TEXT = re.compile(r"\+?[\d\s().\-/]+")
#: Fewer digits than this is not yet worth a phone look-up (a year, a house number).
MIN_PHONE_DIGITS = 4


def clean_query(q: str | None) -> str:
    """The search text, or a 422 naming ``q`` (missing, blank or too long)."""
    text = (q or "").strip()
    if not text:
        raise InvalidInput("q", "is empty: type a name, email, phone, organization or segment")
    if len(text) > SEARCH_MAX_CHARS:
        raise InvalidInput("q", f"is longer than {SEARCH_MAX_CHARS} characters")
    return text


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``: a range an index serves, and LIKE for exactness
    under collations whose order is not by code point."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (
        (column >= prefix)
        & (column < upper)
        & column.like(escape_like(prefix) + "%", escape=LIKE_ESCAPE)
    )


def phone_keys(text: str, region: str) -> tuple[str | None, str | None]:
    """(the E.164 number ``text`` is, the E.164 prefix its digits so far make), either None.

    "(415) 555-0199" in region US is ("+14155550199", "+14155550199"); "+44 7700 90" is
    (None, "+44770090"); a national number drops its trunk zero ("07700 9" -> "+4477009").
    """
    if not _PHONE_TEXT.fullmatch(text):
        return None, None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None, None
    try:
        exact: str | None = normalize_phone(text, region).e164
    except (NormalizationError, ValueError):
        exact = None
    prefix: str | None
    if text.startswith("+"):
        prefix = "+" + digits
    elif digits.startswith("00"):  # the international call prefix of most countries
        prefix = "+" + digits[2:]
    else:
        code = phonenumbers.country_code_for_region(region.upper())
        prefix = f"+{code}{digits.lstrip('0')}" if code else None
    return exact, prefix


def _people_ids(session: Session, text: str, region: str, limit: int) -> dict[int, str]:
    """Matching people's ids, best first, each with what matched."""
    found: dict[int, str] = {}

    def take(query: Any, why: str) -> None:
        if len(found) < limit:
            for person_id in session.scalars(query.limit(limit)):
                if len(found) < limit:
                    found.setdefault(person_id, why)

    exact, prefix = phone_keys(text, region)
    phones = select(Identity.person_id).where(Identity.kind == IdentityKind.phone)
    if exact:
        take(phones.where(Identity.value == exact).order_by(Identity.person_id), "phone")
    if prefix:
        take(phones.where(_prefix(Identity.value, prefix)).order_by(Identity.value), "phone")
    lowered = text.lower()
    if not any(ch.isspace() for ch in text):
        emails = select(Identity.person_id).where(Identity.kind == IdentityKind.email)
        take(emails.where(_prefix(Identity.value, lowered)).order_by(Identity.value), "email")
    if exact:
        return found
    if text[:1].isalpha():
        last = text[:1].upper() + text[1:]
        names = select(Person.id).where(_prefix(Person.last_name, last))
        take(names.order_by(Person.last_name, Person.id), "name")
    substring = contains_text(Person.search_text, lowered)
    take(select(Person.id).where(substring).order_by(Person.id), "text")
    return found


def _people(session: Session, text: str, region: str, limit: int) -> list[dict[str, Any]]:
    matched = _people_ids(session, text, region, limit)
    if not matched:
        return []
    ids = list(matched)
    people = {
        row.id: row
        for row in session.execute(
            select(Person.id, Person.first_name, Person.last_name, Organization.name.label("org"))
            .outerjoin(Organization, Organization.id == Person.organization_id)
            .where(Person.id.in_(ids))
        )
    }
    identities: dict[int, dict[str, str]] = {}
    for person_id, kind, value in session.execute(
        select(Identity.person_id, Identity.kind, Identity.value)
        .where(Identity.person_id.in_(ids), Identity.kind.in_(("email", "phone")))
        .order_by(Identity.is_primary.desc(), Identity.id)
    ):
        identities.setdefault(person_id, {}).setdefault(kind, value)
    out = []
    for person_id in ids:
        row = people.get(person_id)
        if row is None:
            continue
        known = identities.get(person_id, {})
        out.append(
            {
                "id": person_id,
                "name": f"{row.first_name} {row.last_name}".strip() or "(no name)",
                "email": known.get("email"),
                "phone": known.get("phone"),
                "organization": row.org,
                "matched": matched[person_id],
                "url": f"/people/{person_id}",
            }
        )
    return out


def _organizations(session: Session, text: str, limit: int) -> list[dict[str, Any]]:
    query = (
        select(Organization.id, Organization.name, Organization.domain)
        .where(
            or_(
                contains_text(Organization.name, text, fold_case=True),
                _prefix(Organization.domain, text.lower()),
            )
        )
        .order_by(Organization.name, Organization.id)
        .limit(limit)
    )
    return [
        {"id": id_, "name": name, "domain": domain, "url": f"/organizations/{id_}"}
        for id_, name, domain in session.execute(query)
    ]


def _segments(session: Session, text: str, limit: int) -> list[dict[str, Any]]:
    query = (
        select(Segment.id, Segment.name, Segment.kind, Segment.member_count)
        .where(contains_text(Segment.name, text, fold_case=True))
        .order_by(Segment.name, Segment.id)
        .limit(limit)
    )
    return [
        {"id": id_, "name": name, "kind": kind, "members": members, "url": f"/segments/{id_}"}
        for id_, name, kind, members in session.execute(query)
    ]


def search(session: Session, q: str | None, *, region: str, limit: int = 5) -> dict[str, Any]:
    """Up to ``limit`` people, organizations and segments matching ``q``."""
    text = clean_query(q)
    if not 1 <= limit <= MAX_PER_GROUP:
        raise InvalidInput("limit", f"is between 1 and {MAX_PER_GROUP}")
    return {
        "q": text,
        "people": _people(session, text, region, limit),
        "organizations": _organizations(session, text, limit),
        "segments": _segments(session, text, limit),
    }
