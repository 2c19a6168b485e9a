"""Writes on organizations, each one unit of work: check the actor, change, audit, commit.

The API (``web/api/organizations.py``) and the pages (``web/pages/organizations.py``) call
one of these and never commit themselves. Notes and activities logged on an organization
go to its timeline, which sits above this package: they are ``timeline.actions``
(``add_note``, ``log_activity``).

These replace the organization writes of ``customers.actions`` (which committed nothing
and checked no actor); the importers upsert organizations through
``ingest.organization_upsert`` and never called them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers import people
from tenure.customers.attributes import merge_attributes
from tenure.customers.models import Organization, Task
from tenure.customers.schemas import OrganizationCreate, OrganizationUpdate, TaskCreate
from tenure.customers.tags import get_or_create_tags
from tenure.db.types import utcnow
from tenure.errors import Conflict, InvalidInput, NotFound
from tenure.identity.audit import diff_fields, record_audit
from tenure.identity.models import User
from tenure.identity.permissions import Actor, authorize
from tenure.workspace import clock

# A label of a host name: letters (any script, as internationalized domains are kept in
# Unicode) or digits, hyphens inside, at most 63 characters (RFC 1123).
_LABEL = re.compile(r"^[^\W_](?:[^\W_]|-){0,62}$")


def clean_domain(value: str | None) -> str | None:
    """The domain as stored: lowercase, without a scheme, ``www.``, path or trailing dot
    ("https://www.Acme.com/about" is "acme.com"); None when empty. Raises InvalidInput."""
    if value is None or not value.strip():
        return None
    domain = value.strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain)
    domain = domain.split("/", 1)[0].split("?", 1)[0].rstrip(".")
    domain = domain.removeprefix("www.")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or len(domain) > 253
        or not all(_LABEL.match(label) and not label.endswith("-") for label in labels)
    ):
        raise InvalidInput("domain", "is not a domain name (like example.com)")
    return domain


def _check_owner(session: Session, owner_id: int | None) -> None:
    if owner_id is not None and session.get(User, owner_id) is None:
        raise InvalidInput("owner_id", f"no user {owner_id}")


def _check_domain_free(session: Session, domain: str | None, organization_id: int | None) -> None:
    """One organization per domain: the domain is how a company is recognized."""
    if domain is None:
        return
    # Stored lowercase by these actions and by the importers: the plain index serves.
    holder = session.scalar(select(Organization.id).where(Organization.domain == domain).limit(1))
    if holder is not None and holder != organization_id:
        raise Conflict(f"organization {holder} already has the domain {domain}", field="domain")


def _snapshot(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "domain": org.domain,
        "owner_id": org.owner_id,
        "attributes": dict(org.attributes or {}),
        "tags": sorted(t.name for t in org.tags),
    }


def _get(session: Session, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organization", organization_id)
    return org


def create_organization(
    *, session: Session, data: OrganizationCreate, actor: Actor | None
) -> Organization:
    """Create an organization, audited and committed. Any writer may."""
    actor_id = authorize(actor)
    domain = clean_domain(data.domain)
    _check_owner(session, data.owner_id)
    _check_domain_free(session, domain, None)
    org = Organization(
        name=data.name,
        domain=domain,
        owner_id=data.owner_id,
        attributes=merge_attributes(
            session=session, entity="organization", current={}, changes=data.attributes
        ),
        tags=get_or_create_tags(session, data.tags),
        created_at=clock.now(session),
    )
    session.add(org)
    session.flush()
    record_audit(
        session=session,
        actor_id=actor_id,
        action="create",
        entity_type="organization",
        entity_id=org.id,
        changes=diff_fields({}, _snapshot(org)),
    )
    session.commit()
    return org


def update_organization(
    *, session: Session, organization_id: int, data: OrganizationUpdate, actor: Actor | None
) -> Organization:
    """Change the fields given (``tags`` replace the set, ``attributes`` merge and a null
    value removes one); audited when anything changed, committed."""
    actor_id = authorize(actor)
    org = _get(session, organization_id)
    before = _snapshot(org)
    given = data.model_fields_set
    if "name" in given:
        if data.name is None:
            raise InvalidInput("name", "an organization needs a name")
        org.name = data.name
    if "domain" in given:
        domain = clean_domain(data.domain)
        _check_domain_free(session, domain, org.id)
        org.domain = domain
    if "owner_id" in given:
        _check_owner(session, data.owner_id)
        org.owner_id = data.owner_id
    if data.attributes is not None:
        org.attributes = merge_attributes(
            session=session, entity="organization", current=org.attributes, changes=data.attributes
        )
    if data.tags is not None:
        org.tags = get_or_create_tags(session, data.tags)
    changes = diff_fields(before, _snapshot(org))
    if changes:
        org.updated_at = utcnow()
        session.flush()
        record_audit(
            session=session,
            actor_id=actor_id,
            action="update",
            entity_type="organization",
            entity_id=org.id,
            changes=changes,
        )
    session.commit()
    return org


def delete_organization(*, session: Session, organization_id: int, actor: Actor | None) -> None:
    """Delete an organization with its notes, tasks and own timeline; its people stay,
    without an organization. Audited with what it held, committed."""
    actor_id = authorize(actor)
    org = _get(session, organization_id)
    record_audit(
        session=session,
        actor_id=actor_id,
        action="delete",
        entity_type="organization",
        entity_id=org.id,
        changes=diff_fields(_snapshot(org), {}),
    )
    session.delete(org)
    session.commit()


def create_organization_task(
    *, session: Session, organization_id: int, data: TaskCreate, actor: Actor | None
) -> Task:
    """A task on the organization (assignee and due date optional), audited, committed;
    it shows on the assignee's My work page (``customers.tasks``)."""
    authorize(actor)  # refused before the organization is looked up, as every action here
    _get(session, organization_id)
    return people.create_task(
        session=session, data=data, actor=actor, organization_id=organization_id
    )
