"""A cluster (one survivor, several duplicates) merged in one batch, as a scan does it.

The merges are recorded one per duplicate, each undoable; undone newest first they give
back a database identical for every person of the cluster.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Identity, Person
from tenure.dedup.merge import resolve_fields, undo_merge
from tenure.dedup.merge_batch import merge_clusters
from tenure.dedup.models import Merge
from tests.dedup.test_merge_people import T0, footprint, make_import, seed_person


def _cluster(session: Session) -> tuple[int, int, int]:
    link = make_import(session, "cluster.csv")
    oldest = seed_person(
        session,
        first="Grace",
        last="Hopper",
        email="grace@example.com",
        phone="+12025550101",
        created_at=T0,
        updated_at=T0 + timedelta(days=5),
        import_id=link,
        attributes={"city": "Arlington", "plan": "free"},
        tags=("navy",),
    )
    stale = seed_person(  # updated before the oldest: fills gaps only
        session,
        first="G.",
        last="Hopper",
        email="g.hopper@example.com",
        phone="+12025550101",
        created_at=T0 + timedelta(days=1),
        updated_at=T0 + timedelta(days=2),
        import_id=link,
        attributes={"city": "New York", "title": "Rear Admiral"},
        tags=("navy", "cobol"),
    )
    fresh = seed_person(  # the most recently updated: its values win
        session,
        first="Grace",
        last="Hopper",
        email="amazing.grace@example.com",
        phone="+12025550102",
        created_at=T0 + timedelta(days=2),
        updated_at=T0 + timedelta(days=9),
        import_id=make_import(session, "other.csv"),
        attributes={"plan": "pro"},
        job_title="Computer scientist",
    )
    return oldest, stale, fresh


def test_a_cluster_merges_into_its_survivor_weighing_every_record(session: Session) -> None:
    oldest, stale, fresh = _cluster(session)

    merge_ids = merge_clusters(
        session=session,
        clusters=[(oldest, [fresh, stale], 0.9995)],
        actor_id=None,
        source="auto",
        resolve=resolve_fields,
    )

    assert len(merge_ids) == 2
    # Merged in the order of their updates: the stale record first, the fresh one last.
    merges = [session.get(Merge, i) for i in merge_ids]
    assert [m.loser_id for m in merges] == [stale, fresh]
    survivor = session.get(Person, oldest)
    assert survivor.first_name == "Grace"  # "G." was older than the survivor's own value
    assert survivor.attributes == {
        "city": "Arlington",
        "plan": "pro",
        "title": "Rear Admiral",
    }
    assert survivor.job_title == "Computer scientist"
    identities = session.scalars(select(Identity).where(Identity.person_id == oldest)).all()
    phones = sorted(i.value for i in identities if i.kind == "phone")
    assert phones == ["+12025550101", "+12025550102"]
    primaries = [(i.kind, i.namespace) for i in identities if i.is_primary]
    assert len(primaries) == len(set(primaries)) == 3
    assert sorted(t.name for t in survivor.tags) == ["cobol", "navy"]
    assert "amazing.grace@example.com" in survivor.search_text
    assert session.get(Person, stale) is None and session.get(Person, fresh) is None


def test_undoing_a_cluster_newest_first_restores_everyone(session: Session) -> None:
    people = _cluster(session)
    before = [footprint(session, p) for p in people]
    merge_ids = merge_clusters(
        session=session,
        clusters=[(people[0], [people[2], people[1]], 0.9995)],
        actor_id=None,
        source="auto",
        resolve=resolve_fields,
    )

    for merge_id in reversed(merge_ids):
        undo_merge(session=session, merge_id=merge_id, actor_id=None)

    assert [footprint(session, p) for p in people] == before


def test_undoing_the_first_merge_of_a_cluster_alone_gives_its_rows_back(
    session: Session,
) -> None:
    oldest, stale, fresh = _cluster(session)
    stale_rows = footprint(session, stale)
    first, _ = merge_clusters(
        session=session,
        clusters=[(oldest, [stale, fresh], None)],
        actor_id=None,
        source="auto",
        resolve=resolve_fields,
    )

    undo_merge(session=session, merge_id=first, actor_id=None)

    assert footprint(session, stale) == stale_rows
    assert session.get(Person, fresh) is None
    emails = session.scalars(
        select(Identity.value).where(Identity.person_id == oldest, Identity.kind == "email")
    ).all()
    assert sorted(emails) == ["amazing.grace@example.com", "grace@example.com"]
