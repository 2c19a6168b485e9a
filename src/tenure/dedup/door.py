"""Duplicates caught at the door: a person just created, scored against look-alikes.

A whole-base scan compares everyone; a person created through the API (or flagged by an
import as "same name and organization") is compared only with the people it could
duplicate, found with indexed look-ups (:func:`blocked_candidates`: a shared email or
phone, or the same family name with the same initial), so creating a person stays a
few milliseconds of SQL whatever the size of the base.

The matcher fits its model on the records it is given (u from random pairs, m by EM), so
a frame of two records would teach it nothing: the candidates are scored inside a
background of the most recently created people (``BACKGROUND``), and only the pairs of
the new person are kept. A pair found is queued for review (never merged here); a pair
a person dismissed before is not proposed again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, Organization
from tenure.db.bulk import insert_rows
from tenure.db.dialect import id_in
from tenure.db.types import utcnow
from tenure.dedup import frame
from tenure.dedup.matching import RECORD_COLUMNS, MatchConfig, match_records
from tenure.dedup.merge_rows import PEOPLE
from tenure.dedup.models import CandidateStatus, DuplicateCandidate
from tenure.dedup.review import evidence_rows
from tenure.ingest.writes import table_of

CANDIDATES_PER_PERSON = 50  # look-alikes compared at most (the most recent first)
# People the candidates are scored among, so that the model has pairs to learn from.
# Measured on the 300-person synthetic base: the door check finds the scan's pairs.
BACKGROUND = 400
# Random pairs sampled for u: the scan's 300,000 cost 0.85 s a check here (of 1.2 s, on
# 20,000 people); 20,000 pairs of a 400-person background is a fair share of its 80,000.
U_SAMPLE_PAIRS = 20_000
_LIST_COLUMNS = {"emails", "phones", "external_ids"}
_IDENTITIES = table_of(Identity)


def blocked_candidates(session: Session, person_ids: Sequence[int]) -> dict[int, set[int]]:
    """Per person, the people it could duplicate: sharing an email or phone value, or
    with the same family name and initial. Each look-up uses an index."""
    found: dict[int, set[int]] = {pid: set() for pid in person_ids}
    if not person_ids:
        return found
    connection = session.connection()
    mine = _IDENTITIES.alias("mine")
    theirs = _IDENTITIES.alias("theirs")
    shared = session.execute(
        select(mine.c.person_id, theirs.c.person_id)
        .join(theirs, (theirs.c.kind == mine.c.kind) & (theirs.c.value == mine.c.value))
        .where(
            id_in(connection, mine.c.person_id, person_ids),
            mine.c.kind.in_(("email", "phone")),
            theirs.c.person_id != mine.c.person_id,
        )
    )
    for pid, other in shared:
        found[pid].add(other)
    names = session.execute(
        select(PEOPLE.c.id, PEOPLE.c.first_name, PEOPLE.c.last_name).where(
            id_in(connection, PEOPLE.c.id, person_ids)
        )
    ).all()
    for pid, first, last in names:
        if not last:
            continue
        initial = (first or "")[:1].lower()
        query = select(PEOPLE.c.id).where(PEOPLE.c.last_name == last, PEOPLE.c.id != pid)
        if initial:
            query = query.where(func.lower(func.substr(PEOPLE.c.first_name, 1, 1)) == initial)
        query = query.order_by(PEOPLE.c.id.desc()).limit(CANDIDATES_PER_PERSON)
        found[pid].update(session.scalars(query))
    return found


def load_records(session: Session, person_ids: Iterable[int]) -> tuple[pd.DataFrame, pd.Series]:
    """The matcher's record frame for these people (as ``frame.load_base`` builds it for
    everyone, from the same attributes) and their names."""
    ids = sorted(set(person_ids))
    connection = session.connection()
    orgs = table_of(Organization)
    attributes = [PEOPLE.c.attributes[key].as_string().label(key) for key in frame._ATTRIBUTES]
    query = (
        select(
            PEOPLE.c.id,
            PEOPLE.c.first_name,
            PEOPLE.c.last_name,
            orgs.c.name.label("organization"),
            *attributes,
        )
        .select_from(PEOPLE.outerjoin(orgs, orgs.c.id == PEOPLE.c.organization_id))
        .where(id_in(connection, PEOPLE.c.id, ids))
        .order_by(PEOPLE.c.id)
    )
    people = pd.DataFrame(session.execute(query).all(), columns=list(query.selected_columns.keys()))
    lists: dict[str, dict[int, list[str]]] = {"email": {}, "phone": {}, "external": {}}
    unique_namespaces = _unique_id_namespaces(session)
    for pid, kind, namespace, value in session.execute(
        select(
            _IDENTITIES.c.person_id,
            _IDENTITIES.c.kind,
            _IDENTITIES.c.namespace,
            _IDENTITIES.c.value,
        ).where(
            id_in(connection, _IDENTITIES.c.person_id, ids),
            _IDENTITIES.c.kind.in_(("email", "phone", "external")),
        )
    ):
        if kind == "external":
            if namespace not in unique_namespaces:
                continue  # only one-record-per-person ids are evidence, as in frame.py
            value = f"{namespace}:{value}"
        lists[kind].setdefault(pid, []).append(value)
    records = pd.DataFrame({"record_id": people["id"].to_numpy()})
    records["first_name"] = people["first_name"].to_numpy()
    records["last_name"] = people["last_name"].to_numpy()
    records["emails"] = [lists["email"].get(pid, []) for pid in people["id"]]
    records["phones"] = [lists["phone"].get(pid, []) for pid in people["id"]]
    for key, column in frame._ATTRIBUTES.items():
        values = people[key].astype(object).where(people[key].notna(), None)
        records[column] = values.map(lambda v: v.strip() or None if isinstance(v, str) else v)
    records["date_of_birth"] = records["date_of_birth"].map(frame._birthday)
    records["organization"] = people["organization"].astype(object).to_numpy()
    if "external_ids" in RECORD_COLUMNS:
        records["external_ids"] = [lists["external"].get(pid, []) for pid in people["id"]]
    for column in RECORD_COLUMNS:  # a column the matcher reads that is not stored here
        if column not in records:
            records[column] = [[] for _ in range(len(records))] if column in _LIST_COLUMNS else None
    frame._split_house_number(records)
    names = (people["first_name"] + " " + people["last_name"]).str.strip()
    return records[list(RECORD_COLUMNS)], pd.Series(names.to_numpy(), index=people["id"])


def _unique_id_namespaces(session: Session) -> set[str]:
    """The external-id namespaces the workspace declares "one record per person" (the
    matcher counts a different id there against a pair); none where the workspace has no
    such setting."""
    from tenure.workspace import queries as workspace_queries

    declared = getattr(workspace_queries, "unique_id_namespaces", None)
    return set(declared(session)) if declared else set()


def _compare_everything(config: MatchConfig) -> MatchConfig:
    """``config`` returning every pair it compares: no review threshold to speak of and
    no rule that drops a pair (the ``reject_*`` switches off), for pairs a person must
    see anyway."""
    switches: dict[str, Any] = {"review_threshold": 1e-9}
    for option in dataclasses.fields(config):
        if option.name.startswith("reject_"):
            current = getattr(config, option.name)
            switches[option.name] = False if isinstance(current, bool) else frozenset()
    return dataclasses.replace(config, **switches)


def score_against_candidates(
    session: Session,
    candidates: dict[int, set[int]],
    config: MatchConfig = MatchConfig(),
) -> list[dict[str, Any]]:
    """The matcher's pairs between each person and its candidates, best first: dicts of
    ``person_id``, ``other_id``, ``other_name``, ``score``, ``decision``, ``evidence``."""
    wanted = {(pid, other) for pid, others in candidates.items() for other in others}
    if not wanted:
        return []
    involved = set(candidates) | {other for _, other in wanted}
    background = session.scalars(
        select(PEOPLE.c.id).order_by(PEOPLE.c.id.desc()).limit(BACKGROUND)
    ).all()
    records, names = load_records(session, involved | set(background))
    config = dataclasses.replace(config, u_sample_pairs=min(config.u_sample_pairs, U_SAMPLE_PAIRS))
    pairs = match_records(records, config).pairs
    found = []
    for left, right, score, decision, evidence in zip(
        pairs["left_id"],
        pairs["right_id"],
        pairs["score"],
        pairs["decision"],
        pairs["evidence"],
        strict=True,
    ):
        for pid, other in ((int(left), int(right)), (int(right), int(left))):
            if (pid, other) in wanted:
                found.append(
                    {
                        "person_id": pid,
                        "other_id": other,
                        "other_name": str(names.get(other, "")),
                        "score": float(score),
                        "decision": str(decision),
                        "evidence": evidence,
                    }
                )
    return sorted(found, key=lambda f: -f["score"])


def possible_duplicates(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The people ``person_id`` probably duplicates (review threshold or above), with the
    matcher's score and its evidence in words; pairs dismissed before are left out."""
    found = score_against_candidates(session, blocked_candidates(session, [person_id]))
    dismissed = _known(session, [(f["person_id"], f["other_id"]) for f in found])
    return [
        {
            "id": f["other_id"],
            "name": f["other_name"],
            "score": f["score"],
            "evidence": [f"{row['label']}: {row['words']}" for row in evidence_rows(f["evidence"])],
            "raw_evidence": f["evidence"],
        }
        for f in found
        if dismissed.get(_key(f["person_id"], f["other_id"])) != CandidateStatus.dismissed.value
    ]


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _known(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
    if not pairs:
        return {}
    keys = {_key(a, b) for a, b in pairs}
    c = DuplicateCandidate
    rows = session.execute(
        select(c.left_id, c.right_id, c.status).where(
            id_in(session.connection(), c.left_id, sorted({k[0] for k in keys}))
        )
    )
    return {(left, right): status for left, right, status in rows if (left, right) in keys}


def queue_pairs(session: Session, pairs: Sequence[tuple[int, int, float, dict[str, Any]]]) -> int:
    """Queue ``(person, other, score, evidence)`` pairs for review unless the pair is
    known already (pending, merged or dismissed); returns how many were queued."""
    known = _known(session, [(a, b) for a, b, _, _ in pairs])
    now = utcnow()
    rows, seen = [], set(known)
    for a, b, score, evidence in pairs:
        key = _key(a, b)
        if key in seen or a == b:
            continue
        seen.add(key)
        rows.append((*key, float(score), "review", evidence, CandidateStatus.pending.value, now))
    columns = ("left_id", "right_id", "score", "decision", "evidence", "status", "found_at")
    insert_rows(session.connection(), table_of(DuplicateCandidate), columns, rows)
    return len(rows)


def queue_flagged(session: Session, flagged: Sequence[tuple[int, int]], reason: str) -> int:
    """Queue pairs an importer flagged (a new person, the existing one it resembles): with
    the matcher's score and evidence where it scores the pair at all, otherwise with the
    importer's reason as the evidence (score 0: the matcher saw no likeness)."""
    if not flagged:
        return 0
    candidates: dict[int, set[int]] = {}
    for new, existing in flagged:
        candidates.setdefault(new, set()).add(existing)
    # Every pair the matcher compares, however unlikely: the importer already flagged it.
    everything = _compare_everything(MatchConfig())
    scored = {
        (f["person_id"], f["other_id"]): f
        for f in score_against_candidates(session, candidates, everything)
    }
    pairs = []
    for new, existing in flagged:
        f = scored.get((new, existing))
        if f is not None:
            evidence = {**f["evidence"], "import": {"level": reason, "weight": 0.0}}
            pairs.append((new, existing, f["score"], evidence))
        else:
            pairs.append((new, existing, 0.0, {"import": {"level": reason, "weight": 0.0}}))
    return queue_pairs(session, pairs)
