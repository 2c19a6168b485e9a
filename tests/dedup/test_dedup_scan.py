"""A scan over a small seeded base: certain pairs merged, probable ones queued, dismissed
pairs never proposed again, and a dry run that writes nothing.

The base is the matcher's synthetic generator (FEBRL names and addresses, copies with
typos, nicknames, swapped names and moves, plus households) written into the tables the
way an import stores people; its truth is used only to check the automatic merges.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.dedup_truth.synthetic import generate_base
from tenure.customers.models import Identity, Organization, Person
from tenure.db.bulk import insert_rows
from tenure.db.session import unit_of_work
from tenure.db.types import utcnow
from tenure.dedup.frame import load_base
from tenure.dedup.matching import RECORD_COLUMNS, find_duplicates
from tenure.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tenure.dedup.review import dismiss_candidate, list_candidates
from tenure.dedup.scan import scan_duplicates
from tenure.identity.models import AuditEntry
from tenure.ingest.writes import table_of

_ATTRIBUTES = {
    "street_number": "street_number",
    "address_line1": "street",
    "address_line2": "address_line2",
    "city": "city",
    "postcode": "postal_code",
    "region": "region",
    "country": "country",
    "date_of_birth": "birthday",
}


def write_base(session_factory: sessionmaker[Session], people: int, seed: int = 1) -> pd.Series:
    """Write a synthetic base; returns the true entity of each person id."""
    base = generate_base(people, seed=seed)
    now = utcnow()
    records = base.records.to_dict("records")
    with unit_of_work(session_factory) as session:
        connection = session.connection()
        names = sorted({r["organization"] for r in records if isinstance(r["organization"], str)})
        org_ids = insert_rows(
            connection,
            table_of(Organization),
            ("name", "attributes", "created_at", "updated_at"),
            [(n, {}, now, now) for n in names],
            return_ids=True,
        )
        org_of = dict(zip(names, org_ids, strict=True))
        rows = []
        for index, r in enumerate(records):
            first = r["first_name"] if isinstance(r["first_name"], str) else ""
            last = r["last_name"] if isinstance(r["last_name"], str) else ""
            attributes = {
                key: r[column]
                for column, key in _ATTRIBUTES.items()
                if isinstance(r.get(column), str) and r[column]
            }
            created = now - timedelta(hours=len(records) - index)
            organization = org_of.get(r["organization"]) if r["organization"] else None
            rows.append((first, last, organization, attributes, first.lower(), created, created))
        person_ids = insert_rows(
            connection,
            table_of(Person),
            (
                "first_name",
                "last_name",
                "organization_id",
                "attributes",
                "search_text",
                "created_at",
                "updated_at",
            ),
            rows,
            return_ids=True,
        )
        identities, seen = [], set()
        for person_id, r in zip(person_ids, records, strict=True):
            found = [("external", "synthetic", str(r["record_id"]))]
            found += [("email", "", e) for e in r["emails"]]
            found += [("phone", "", p) for p in r["phones"]]
            for kind, namespace, value in found:
                if kind != "phone" and (kind, value) in seen:
                    continue  # an email has one owner, as the importers guarantee
                seen.add((kind, value))
                identities.append((person_id, kind, namespace, value, value, False, now))
        insert_rows(
            connection,
            table_of(Identity),
            ("person_id", "kind", "namespace", "value", "original", "is_primary", "created_at"),
            identities,
        )
    return pd.Series(base.entity.to_numpy(), index=person_ids)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> pd.Series:
    return write_base(session_factory, 300)


def test_the_scan_decides_as_the_matcher_on_the_loaded_base(session_factory, seeded) -> None:
    with session_factory() as session:
        frame = load_base(session).records
    assert list(frame.columns) == list(RECORD_COLUMNS)
    expected = find_duplicates(frame)

    report = scan_duplicates(session_factory=session_factory, actor_id=None, dry_run=True)

    mine = report.pairs.set_index(["left_id", "right_id"])["decision"].sort_index()
    theirs = expected.assign(
        left_id=expected[["left_id", "right_id"]].min(axis=1),
        right_id=expected[["left_id", "right_id"]].max(axis=1),
    ).set_index(["left_id", "right_id"])["decision"]
    assert mine.index.equals(theirs.sort_index().index)
    # The cluster guard may only turn "auto" into "review", never the other way.
    assert not ((mine == "auto") & (theirs.sort_index() == "review")).any()
    assert {"auto", "review"} == set(mine)


def test_a_dry_run_writes_nothing(session_factory, session: Session, seeded) -> None:
    people = _count(session, Person)

    report = scan_duplicates(session_factory=session_factory, actor_id=None, dry_run=True)

    assert report.auto_pairs > 0 and report.review_pairs > 0
    assert report.merged == report.queued == 0
    assert _count(session, Person) == people
    assert _count(session, DuplicateCandidate) == _count(session, Merge) == 0


def test_a_scan_merges_certain_pairs_and_queues_probable_ones(
    session_factory, session: Session, seeded: pd.Series
) -> None:
    people = _count(session, Person)

    report = scan_duplicates(session_factory=session_factory, actor_id=None)

    auto = report.pairs[report.pairs["decision"] == "auto"]
    members = pd.unique(pd.concat([auto["left_id"], auto["right_id"]]))
    clusters = auto["cluster"].nunique()
    assert report.merged == len(members) - clusters > 0
    assert _count(session, Person) == people - report.merged
    for _, group in auto.groupby("cluster"):
        cluster = pd.unique(pd.concat([group["left_id"], group["right_id"]]))
        alive = [p for p in cluster if session.get(Person, int(p)) is not None]
        assert len(alive) == 1  # each cluster is one person now: its oldest member
    truth = seeded
    correct = (
        truth.reindex(auto["left_id"]).to_numpy() == truth.reindex(auto["right_id"]).to_numpy()
    )
    assert correct.mean() >= 0.99
    queue = list_candidates(session, limit=500).items
    # Review pairs of a person merged away by this scan are queued with the survivor.
    assert len(queue) == report.queued <= (report.pairs["decision"] == "review").sum()
    alive = {p["left"]["id"] for p in queue} | {p["right"]["id"] for p in queue}
    assert all(session.get(Person, p) is not None for p in alive)
    assert {p["decision"] for p in queue} == {"review"}
    merges = session.scalars(select(Merge)).all()
    assert len(merges) == report.merged and {m.source for m in merges} == {"auto"}
    scans = session.scalars(select(AuditEntry).where(AuditEntry.action == "duplicates_scan"))
    assert [a.changes["merged"] for a in scans] == [report.merged]


def test_dismissed_pairs_are_not_proposed_again(session_factory, session: Session, seeded) -> None:
    scan_duplicates(session_factory=session_factory, actor_id=None)
    pair = list_candidates(session, limit=1).items[0]
    dismiss_candidate(session=session, candidate_id=pair["id"], actor_id=None)
    session.commit()

    again = scan_duplicates(session_factory=session_factory, actor_id=None)

    found = set(zip(again.pairs["left_id"], again.pairs["right_id"], strict=True))
    assert (pair["left"]["id"], pair["right"]["id"]) not in found
    assert again.dismissed_skipped == 1
    assert again.merged == 0 or again.merged < 5  # what the first scan merged stays merged
    assert session.get(DuplicateCandidate, pair["id"]).status == CandidateStatus.dismissed
    # A pair already queued is refreshed, not queued twice.
    assert again.queued <= 2
