"""The shared row-upsert engine: one chunk of person drafts matched, merged and written.

Matching rule (strongest first):

1. external ids, social handles and emails are unique to a person: a draft whose values
   name one existing person updates that person; values naming two different people are a
   conflict and the row is rejected (merging them is the duplicate reviewer's job);
2. otherwise a phone number matches the person holding it whose name agrees (same
   normalized name, or either side without a name), the lowest id first: phones are shared
   by households and switchboards, so a phone alone never merges two different names;
3. otherwise the draft creates a person. If someone with the same normalized name already
   works for the same organization, the new person is a *probable duplicate*: created,
   counted apart, listed in the report with the person it resembles and (by the runner)
   queued for review as a pair.

Update rule: the file wins for the values it gives and never erases: an empty cell leaves
the stored value alone, identities and tags are added (never removed), attributes are
merged key by key, and a consent is appended only when it changes the status in force.
Each row ends in exactly one of created, duplicate, updated, unchanged or rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tenure.ingest.drafts import PersonDraft, Problem, person_name_key
from tenure.ingest.organization_links import OrganizationLinks
from tenure.ingest.people_lookup import (
    Known,
    anyone_stored,
    load_identities,
    load_people,
    people_named,
)
from tenure.ingest.person_state import PersonState
from tenure.ingest.writes import PersonWriter

NO_IDENTITY = Problem(
    "(row)", "has no email, phone or record id, so it could not be matched on a later import"
)


@dataclass
class Issue:
    line: int
    kind: str
    column: str
    reason: str
    person_id: int | None = None
    # A probable duplicate: the person created and the one it resembles (an id, or a
    # person this chunk creates too). Ids are known once the chunk is written.
    twins: tuple[PersonState, PersonState | int] | None = field(default=None, compare=False)

    def twin_ids(self) -> tuple[int, int] | None:
        """The pair's two person ids once written (None before, or in a dry run)."""
        if self.twins is None:
            return None
        new, other = self.twins
        other_id = other if isinstance(other, int) else other.person_id
        if new.person_id is None or other_id is None:
            return None
        return new.person_id, other_id


@dataclass
class Outcome:
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    issues: list[Issue] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        for name in ("created", "duplicates", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.issues.extend(other.issues)


class PeopleUpserter:
    """Matches and writes chunks of drafts; keeps caches (organizations, tags) across chunks.

    In a dry run nothing is written: people "created" by earlier chunks are remembered in
    memory so that later rows match them as they would in a real run.
    """

    def __init__(
        self,
        *,
        import_id: int | None,
        actor_id: int | None,
        dry_run: bool,
        organizations: OrganizationLinks,
    ) -> None:
        self.import_id = import_id
        self.actor_id = actor_id
        self.dry_run = dry_run
        self.organizations = organizations
        self.writer = PersonWriter(import_id=import_id, actor_id=actor_id)
        # Dry run only: what earlier chunks would have created.
        self._virtual_identities: dict[tuple[str, str, str], PersonState] = {}
        self._virtual_names: dict[tuple[int | None, str], PersonState] = {}

    def forget_uncommitted(self) -> None:
        """Drop ids cached from a chunk that rolled back: the rows they named are gone."""
        self.organizations.forget_uncommitted()
        self.writer.forget_uncommitted()

    def apply_chunk(self, session: Session, drafts: Sequence[PersonDraft]) -> Outcome:
        outcome = Outcome()
        valid: list[PersonDraft] = []
        for draft in drafts:
            problems = draft.problems or ([] if draft.identities else [NO_IDENTITY])
            if problems:
                outcome.rejected += 1
                outcome.issues.extend(
                    Issue(draft.line, "rejected", p.column, p.reason) for p in problems
                )
            else:
                valid.append(draft)
        org_ids = self.organizations.resolve(session, valid, dry_run=self.dry_run)
        # Nobody stored yet (a first import): no look-up of this chunk can find anyone.
        stored = anyone_stored(session)
        known = load_identities(session, valid) if stored else Known(unique={}, phones={})
        loaded: dict[int, PersonState] = {}
        by_identity: dict[tuple[str, str, str], PersonState] = dict(self._virtual_identities)
        new_people: list[PersonState] = []
        row_plans: list[tuple[PersonDraft, PersonState | int, int | None]] = []

        # First pass: find each row's person (existing id or a state born in this chunk).
        for draft in valid:
            target, problem = _match(draft, known, by_identity)
            if problem is not None:
                outcome.rejected += 1
                outcome.issues.append(Issue(draft.line, "rejected", problem.column, problem.reason))
                continue
            if target is None:
                target = PersonState(person_id=None, action="created")
                new_people.append(target)
            if isinstance(target, PersonState):
                for identity in draft.identities:
                    by_identity.setdefault(identity.key, target)
            row_plans.append((draft, target, org_ids.get(draft.line)))

        states = load_people(session, {t for _, t, _ in row_plans if isinstance(t, int)})
        loaded.update(states)
        twins = self._find_twins(session, row_plans, look_up=stored)
        for draft, target, org_id in row_plans:
            state = loaded[target] if isinstance(target, int) else target
            is_first_row_of_new = state.person_id is None and not state.counted
            changed = state.merge(draft, org_id)
            if is_first_row_of_new:
                state.counted = True
                twin = twins.get(id(state))
                if twin is None:
                    twin = self._virtual_names.get((org_id or 0, state.name_key))
                if twin is not None:
                    outcome.duplicates += 1
                    outcome.issues.append(
                        Issue(
                            draft.line,
                            "duplicate",
                            "(row)",
                            "same name and organization as an existing person, but no "
                            "shared email, phone or record id",
                            twin if isinstance(twin, int) else None,
                            twins=(state, twin),
                        )
                    )
                else:
                    outcome.created += 1
            elif changed:
                outcome.updated += 1
                if state.action == "unchanged":
                    state.action = "updated"
            else:
                outcome.unchanged += 1

        if self.dry_run:
            for state in new_people:
                for key in state.identities:
                    self._virtual_identities[key] = state
                if state.organization_id and state.name_key:
                    self._virtual_names[(state.organization_id, state.name_key)] = state
            return outcome
        self.writer.write(
            session,
            new_people=new_people,
            changed=[s for s in loaded.values() if s.action == "updated"],
        )
        return outcome

    def _find_twins(
        self,
        session: Session,
        plans: Sequence[tuple[PersonDraft, PersonState | int, int | None]],
        *,
        look_up: bool,
    ) -> dict[int, int | PersonState]:
        """Probable duplicates of the people this chunk creates: same name, same organization.

        Stored people are looked up only where some may exist: not when nobody is stored,
        nor in an organization this chunk has just created.
        """
        wanted: dict[tuple[int, str], list[PersonState]] = {}
        twins: dict[int, int | PersonState] = {}
        for draft, target, org_id in plans:
            if isinstance(target, PersonState) and target.person_id is None and org_id:
                key = (org_id, person_name_key(draft.first_name, draft.last_name))
                if key[1]:
                    earlier = wanted.setdefault(key, [])
                    if earlier and id(target) not in {id(s) for s in earlier}:
                        twins[id(target)] = earlier[0]
                    earlier.append(target)
        fresh = self.organizations.created_by_last_chunk
        pairs = {
            (org, draft.last_name)
            for draft, target, org in plans
            if isinstance(target, PersonState)
            and org
            and org > 0
            and draft.last_name
            and org not in fresh
        }
        if not (pairs and look_up):
            return twins
        for person_id, org_id, first, last in session.execute(people_named(session, sorted(pairs))):
            for state in wanted.get((org_id or 0, person_name_key(first, last)), []):
                twins.setdefault(id(state), person_id)
        return twins


def _match(
    draft: PersonDraft,
    known: Known,
    by_identity: dict[tuple[str, str, str], PersonState],
) -> tuple[PersonState | int | None, Problem | None]:
    strong: list[tuple[PersonState | int, str, str]] = []
    for identity in draft.identities:
        if identity.kind == "phone":
            continue
        target: PersonState | int | None = by_identity.get(identity.key)
        if target is None:
            target = known.unique.get(identity.key)
        if target is not None:
            strong.append((target, identity.column, f"{identity.kind} {identity.value}"))
    distinct = {_ref(t) for t, _, _ in strong}
    if len(distinct) > 1:
        first, _, first_what = strong[0]
        other = next(s for s in strong if _ref(s[0]) != _ref(first))
        return None, Problem(
            other[1],
            f"{other[2]} belongs to {_describe(other[0])}, but {first_what} to "
            f"{_describe(first)}: merge them first",
        )
    if strong:
        return strong[0][0], None
    name = person_name_key(draft.first_name, draft.last_name)
    for identity in draft.identities:
        if identity.kind != "phone":
            continue
        local = by_identity.get(identity.key)
        if local is not None and (not name or not local.name_key or local.name_key == name):
            return local, None
        for person_id, holder_name in known.phones.get(identity.value, []):
            if not name or not holder_name or holder_name == name:
                return person_id, None
    return None, None


def _ref(target: PersonState | int) -> object:
    return target if isinstance(target, int) else id(target)


def _describe(target: PersonState | int) -> str:
    return f"person {target}" if isinstance(target, int) else "an earlier row of this file"
