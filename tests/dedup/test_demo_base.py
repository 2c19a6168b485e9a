"""The demo base as a customer base to resolve: no wrong merge, a short queue, the planted
duplicates found.

The demo is built for real (a slice of 3,000 CDNOW customers, 39 planted duplicates)
into a fresh database, then scanned. Every demo person carries the ``cdnow_customer_id``
of its customer, planted duplicates included, which the matcher never reads: a pair is
one customer exactly when the two ids are equal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tenure.config import Settings
from tenure.customers.models import Person
from tenure.datasets.demo import build_demo_workspace
from tenure.datasets.demo_truth import demo_truth, score_demo_scan
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.dedup.frame import load_base
from tenure.dedup.models import DuplicateCandidate, Merge
from tenure.dedup.scan import scan_duplicates
from tenure.timeline.models import Event

CUSTOMERS = 3000


@pytest.fixture
def demo(fresh_database_url: str) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=CUSTOMERS)
    yield engine, make_session_factory(engine)
    engine.dispose()


def test_the_demo_plants_duplicates_that_keep_their_customer_id(demo) -> None:
    _, factory = demo
    with factory() as session:
        truth = demo_truth(session)
        people = session.scalar(select(func.count()).select_from(Person))
        events_of_planted = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.person_id.in_(truth.index[truth.duplicated()].tolist()))
        )
        records = load_base(session).records
    assert truth.nunique() == CUSTOMERS
    planted = people - CUSTOMERS
    assert planted == round(CUSTOMERS * 0.013) == int(truth.duplicated().sum())
    # Orders stay with the original customers: planted duplicates carry none.
    assert events_of_planted == 0
    # The matcher's record frame never holds the truth.
    assert "cdnow_customer_id" not in records.columns
    assert not records.astype(str).apply(lambda c: c.str.contains("cdnow")).any().any()
    # Households and colleagues: shared family names at one address, shared offices.
    at_one_address = records.dropna(subset=["address_line1"]).groupby(
        ["street_number", "address_line1", "postcode"]
    )
    assert (at_one_address.size() >= 2).sum() > CUSTOMERS * 0.05


def test_a_scan_of_the_demo_merges_no_two_customers(demo) -> None:
    _, factory = demo
    with factory() as session:
        truth = demo_truth(session)

    report = scan_duplicates(session_factory=factory, actor_id=None, dry_run=True)
    quality = score_demo_scan(report.pairs, truth, report.people)

    assert quality.auto_merges > 0
    assert quality.wrong_auto_merges == 0  # precision of automatic merges 1.0
    assert quality.review_pairs <= 0.01 * report.people
    assert quality.planted_found >= 0.95 * quality.planted_pairs
    # Every decision says why, in words.
    assert all(
        evidence["decision"]["level"].startswith(("merge automatically", "review"))
        for evidence in report.pairs["evidence"]
    )

    real = scan_duplicates(session_factory=factory, actor_id=None)
    with factory() as session:
        merges = session.execute(select(Merge.survivor_id, Merge.loser_id)).all()
        queued = session.scalar(select(func.count()).select_from(DuplicateCandidate))
    assert real.merged == len(merges) > 0
    assert all(truth[survivor] == truth[loser] for survivor, loser in merges)
    assert real.auto_pairs <= queued <= real.auto_pairs + real.review_pairs
