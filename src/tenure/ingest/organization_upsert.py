"""Upserting organizations (company and account exports).

Matching rule: the source system's id (``organization_external_ids``), else the domain,
else the name compared case-insensitively; the oldest organization wins a tie. Update
rule as for people: the file wins for the values it gives, never erases, adds tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Organization
from tenure.customers.tags import get_or_create_tags
from tenure.db.bulk import load_rows
from tenure.db.types import utcnow
from tenure.identity.audit import record_audit
from tenure.ingest.drafts import OrganizationDraft
from tenure.ingest.models import OrganizationExternalId, organizations_imports
from tenure.ingest.people_upsert import Issue, Outcome
from tenure.ingest.writes import table_of


class OrganizationUpserter:
    def __init__(self, *, import_id: int | None, actor_id: int | None, dry_run: bool) -> None:
        self.import_id = import_id
        self.actor_id = actor_id
        self.dry_run = dry_run
        # Dry run: keys of organizations earlier chunks would have created.
        self._virtual: set[tuple[str, str]] = set()

    def forget_uncommitted(self) -> None:
        """Nothing cached across chunks refers to rows a rolled-back chunk wrote."""

    def apply_chunk(self, session: Session, drafts: Sequence[OrganizationDraft]) -> Outcome:
        outcome = Outcome()
        seen: dict[tuple[str, str], Organization | str] = {}
        for draft in drafts:
            if draft.problems:
                outcome.rejected += 1
                outcome.issues.extend(
                    Issue(draft.line, "rejected", p.column, p.reason) for p in draft.problems
                )
                continue
            keys = _keys(draft)
            target: Organization | str | None = next((seen[k] for k in keys if k in seen), None)
            if target is None:
                target = self._find(session, draft)
            if target is None and any(k in self._virtual for k in keys):
                target = "virtual"
            if target is None or target == "virtual":
                first_time = target is None
                if self.dry_run:
                    self._virtual.update(keys)
                    target = "virtual"
                else:
                    target = self._create(session, draft)
                if first_time:
                    outcome.created += 1
                else:
                    outcome.unchanged += 1
            elif isinstance(target, Organization):
                if self._update(session, target, draft):
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
            for key in keys:
                seen[key] = target
        return outcome

    def _find(self, session: Session, draft: OrganizationDraft) -> Organization | None:
        for namespace, value in draft.external_ids:
            org_id = session.scalar(
                select(OrganizationExternalId.organization_id).where(
                    OrganizationExternalId.namespace == namespace,
                    OrganizationExternalId.value == value,
                )
            )
            if org_id is not None:
                return session.get(Organization, org_id)
        query = select(Organization).order_by(Organization.id).limit(1)
        if draft.domain:
            found = session.scalar(query.where(Organization.domain == draft.domain))
            if found is not None:
                return found
        return session.scalar(query.where(func.lower(Organization.name) == draft.name.casefold()))

    def _create(self, session: Session, draft: OrganizationDraft) -> Organization:
        org = Organization(
            name=draft.name,
            domain=draft.domain,
            attributes=dict(draft.attributes),
            tags=get_or_create_tags(session, draft.tags),
        )
        session.add(org)
        session.flush()
        self._link(session, org, draft, "created")
        return org

    def _update(self, session: Session, org: Organization, draft: OrganizationDraft) -> bool:
        changes: dict[str, Any] = {}
        for name, value in (("name", draft.name), ("domain", draft.domain)):
            if value and getattr(org, name) != value:
                changes[name] = {"before": getattr(org, name), "after": value}
                setattr(org, name, value)
        attributes = dict(org.attributes or {})
        for key, value in draft.attributes.items():
            if attributes.get(key) != value:
                changes[f"attributes.{key}"] = {"before": attributes.get(key), "after": value}
                attributes[key] = value
        org.attributes = attributes
        have = {t.name for t in org.tags}
        added = [t for t in dict.fromkeys(draft.tags) if t not in have]
        if added:
            org.tags = [*org.tags, *get_or_create_tags(session, added)]
            changes["tags.added"] = {"before": None, "after": added}
        known: set[tuple[str, str]] = {
            (namespace, value)
            for namespace, value in session.execute(
                select(OrganizationExternalId.namespace, OrganizationExternalId.value).where(
                    OrganizationExternalId.organization_id == org.id
                )
            )
        }
        if any(ref not in known for ref in draft.external_ids):
            changes["external_ids.added"] = {
                "before": None,
                "after": [":".join(r) for r in draft.external_ids if r not in known],
            }
        if not changes:
            return False
        org.updated_at = utcnow()
        session.flush()
        self._link(session, org, draft, "updated", known=known)
        record_audit(
            session=session,
            actor_id=self.actor_id,
            action="update",
            entity_type="organization",
            entity_id=org.id,
            changes=changes,
        )
        return True

    def _link(
        self,
        session: Session,
        org: Organization,
        draft: OrganizationDraft,
        action: str,
        known: set[tuple[str, str]] | None = None,
    ) -> None:
        connection = session.connection()
        refs = [r for r in dict.fromkeys(draft.external_ids) if r not in (known or set())]
        load_rows(
            connection,
            table_of(OrganizationExternalId),
            ("namespace", "value", "organization_id"),
            [(ns, value, org.id) for ns, value in refs],
        )
        if self.import_id is not None:
            already = session.scalar(
                select(organizations_imports.c.action).where(
                    organizations_imports.c.organization_id == org.id,
                    organizations_imports.c.import_id == self.import_id,
                )
            )
            if already is None:
                load_rows(
                    connection,
                    organizations_imports,
                    ("organization_id", "import_id", "action"),
                    [(org.id, self.import_id, action)],
                )


def _keys(draft: OrganizationDraft) -> list[tuple[str, str]]:
    keys = [(f"id:{ns}", value) for ns, value in draft.external_ids]
    if draft.domain:
        keys.append(("domain", draft.domain))
    keys.append(("name", draft.name.casefold()))
    return keys
