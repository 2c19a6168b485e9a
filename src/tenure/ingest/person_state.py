"""A person as an import chunk will leave it, and the update rule that gets it there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenure.ingest.drafts import PersonDraft, person_name_key


@dataclass
class PersonState:
    """A person as this chunk will leave it: loaded from the database, or about to be born."""

    person_id: int | None  # None: created by this chunk (or by an earlier dry-run chunk)
    first_name: str = ""
    last_name: str = ""
    job_title: str | None = None
    organization_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    identities: dict[tuple[str, str, str], tuple[str, bool]] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    consents: dict[tuple[str, str], str] = field(default_factory=dict)
    new_identities: list[tuple[tuple[str, str, str], str]] = field(default_factory=list)
    new_tags: list[str] = field(default_factory=list)
    new_consents: list[tuple[str, str, str, str]] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)
    action: str = "unchanged"  # created / updated / unchanged, for the link to the import
    counted: bool = False  # a new person's first row counts as created, later rows as updates

    @property
    def name_key(self) -> str:
        return person_name_key(self.first_name, self.last_name)

    def merge(self, draft: PersonDraft, organization_id: int | None) -> bool:
        """Apply ``draft`` (the file wins, empty values never erase); True if it changed.

        Before/after values are recorded for stored people only: they go to the audit log
        of an update, and a person this chunk creates has no "before".
        """
        if self.person_id is None and not self.counted and not self.identities:
            return self._merge_first(draft, organization_id)
        audited = self.person_id is not None
        changed = False
        for name, value in (
            ("first_name", draft.first_name),
            ("last_name", draft.last_name),
            ("job_title", draft.job_title),
            ("organization_id", organization_id),
        ):
            if value not in (None, "") and getattr(self, name) != value:
                if audited:
                    self.changes[name] = {"before": getattr(self, name), "after": value}
                setattr(self, name, value)
                changed = True
        for key, value in draft.attributes.items():
            if self.attributes.get(key) != value:
                if audited:
                    before = self.attributes.get(key)
                    self.changes[f"attributes.{key}"] = {"before": before, "after": value}
                self.attributes[key] = value
                changed = True
        for identity in draft.identities:
            known = identity.key
            if known not in self.identities:
                group = known[:2]
                primary = not any(k[:2] == group and p for k, (_, p) in self.identities.items())
                self.identities[known] = (identity.original, primary)
                self.new_identities.append((known, identity.original))
                if audited:
                    self._added("identities.added", ":".join(known))
                changed = True
        for tag in draft.tags:
            if tag not in self.tags:
                self.tags.add(tag)
                self.new_tags.append(tag)
                if audited:
                    self._added("tags.added", tag)
                changed = True
        for consent in draft.consents:
            slot = (consent.channel, consent.purpose)
            if self.consents.get(slot) != consent.status:
                self.consents[slot] = consent.status
                self.new_consents.append(
                    (consent.channel, consent.purpose, consent.status, consent.source)
                )
                if audited:
                    self.changes[f"consent.{consent.channel}.{consent.purpose}"] = {
                        "before": None,
                        "after": consent.status,
                    }
                changed = True
        return changed

    def _merge_first(self, draft: PersonDraft, organization_id: int | None) -> bool:
        """``merge`` of the first row into a person this chunk creates: every value the row
        gives is new (the general rule, without comparing against an empty state)."""
        changed = False
        if draft.first_name:
            self.first_name, changed = draft.first_name, True
        if draft.last_name:
            self.last_name, changed = draft.last_name, True
        if draft.job_title:
            self.job_title, changed = draft.job_title, True
        if organization_id not in (None, ""):
            self.organization_id, changed = organization_id, True
        for key, value in draft.attributes.items():
            if value is not None:  # what .get() of the empty state already answers
                self.attributes[key], changed = value, True
        groups: set[tuple[str, str]] = set()
        for identity in draft.identities:  # distinct already (PersonDraft.add_identity)
            known = identity.key
            group = known[:2]
            self.identities[known] = (identity.original, group not in groups)
            self.new_identities.append((known, identity.original))
            groups.add(group)
            changed = True
        for tag in draft.tags:
            if tag not in self.tags:
                self.tags.add(tag)
                self.new_tags.append(tag)
                changed = True
        for consent in draft.consents:
            slot = (consent.channel, consent.purpose)
            if self.consents.get(slot) != consent.status:
                self.consents[slot] = consent.status
                self.new_consents.append(
                    (consent.channel, consent.purpose, consent.status, consent.source)
                )
                changed = True
        return changed

    def _added(self, change: str, value: str) -> None:
        self.changes.setdefault(change, {"before": None, "after": []})["after"].append(value)
