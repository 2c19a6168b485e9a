"""write_scores: the first load, a next day's refill, a same-day rerun, and the values stored."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pandas as pd
import pytest
from sqlalchemy import inspect, select

from tenure.db.engine import create_db_engine
from tenure.scores import writes
from tenure.scores.churn import KnownChurn
from tenure.scores.models import PersonScore, ScoreRefresh
from tenure.scores.writes import _load as load_frame
from tenure.scores.writes import _refill as refill
from tenure.scores.writes import score_frame, write_scores

from .workspace import add_people

AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
# Text that COPY's text format and CSV must escape: tab, newline, backslash, quotes.
AWKWARD = 'tab\there, line\nbreak, back\\slash, "quoted", comma'


def _refreshed(connection, parts: dict) -> dict:
    """``parts`` with the id of a new refresh row (as of ``meta["as_of"]``) in ``meta``."""
    meta = parts["meta"]
    refresh = ScoreRefresh.__table__
    values = {k: meta[k] for k in ("as_of", "currency", "model_version", "fitted_at")}
    meta["refresh_id"] = connection.execute(
        refresh.insert().values(**values).returning(refresh.c.id)
    ).scalar_one()
    return parts


def _parts(ids: list[int], version: str, reasons: list[str | None]) -> dict:
    index = pd.Index(ids, name="person_id")
    n = len(ids)
    summary = pd.DataFrame(
        {
            "purchase_days": np.arange(1, n + 1),
            "frequency": np.arange(n),
            "recency_days": np.full(n, 3),
            "T": np.full(n, 40),
            "monetary": np.linspace(100.4, 200.6, n),
            "revenue": np.arange(n) * 1000 + 500,
        },
        index=index,
    )
    scores = pd.DataFrame(
        {
            "p_alive": [0.1 + 1e-12, np.nan, 1 / 3][:n],
            "expected_purchases_90d": [2.5, np.nan, 0.0][:n],
            "clv_12m_minor": [1234.0, np.nan, 0.0][:n],
            "r_score": [1, 2, 3][:n],
            "f_score": [3, 2, 1][:n],
            "m_score": [5, 4, 3][:n],
            "rfm_segment": ["champions", "at_risk", "lost"][:n],
        },
        index=index,
    )
    return {
        "summary": summary,
        "scores": scores,
        "churn": KnownChurn(
            pd.Series([0.25, np.nan, 1.0][:n], index=index),
            pd.Series(reasons, index=index, dtype=object),
        ),
        "refunds": pd.Series([100], index=ids[:1]),
        "meta": {
            "as_of": AS_OF,
            "currency": "USD",
            "margin": 0.5,
            "model_version": version,
            "fitted_at": AS_OF,
        },
    }


def test_the_first_load_stores_every_value_and_keeps_the_indexes_and_foreign_key(session):
    # Given three people and no scores yet
    connection = session.connection()
    ids = add_people(connection, 3)
    inspector = inspect(connection)
    indexes = sorted(ix["name"] for ix in inspector.get_indexes("person_scores"))
    foreign_keys = inspector.get_foreign_keys("person_scores")
    reasons = [
        orjson.dumps([{"feature": "attr_note", "value": AWKWARD, "contribution": 0.5}]).decode(),
        None,
        orjson.dumps([{"feature": "churned", "value": "no order in 90 days"}]).decode(),
    ]

    # When a refresh's scores are written into the empty table
    changed = write_scores(connection, **_refreshed(connection, _parts(ids, "1.'a", reasons)))

    # Then every person is written, with missing values as NULL and text intact
    assert changed == sorted(ids)
    session.expire_all()
    rows = {r.person_id: r for r in session.scalars(select(PersonScore))}
    first, second, third = (rows[i] for i in ids)
    assert first.churn_reasons == [{"feature": "attr_note", "value": AWKWARD, "contribution": 0.5}]
    assert first.p_alive == 0.1 + 1e-12  # floats exactly
    assert (first.clv_12m_minor, first.monetary_minor, first.historical_clv_minor) == (
        1234,
        100,
        200,  # (500 revenue - 100 refunds) * 0.5
    )
    assert second.churn_reasons is None and second.churn_probability is None
    assert second.p_alive is None and second.clv_12m_minor is None
    assert (third.rfm_segment, third.churn_probability, third.p_alive) == ("lost", 1.0, 1 / 3)
    refresh = session.get(ScoreRefresh, first.refresh_id)
    assert {r.refresh_id for r in rows.values()} == {refresh.id}
    assert (refresh.as_of, refresh.fitted_at, refresh.model_version) == (AS_OF, AS_OF, "1.'a")

    # and the table keeps its indexes and its foreign key to people
    inspector = inspect(connection)
    assert sorted(ix["name"] for ix in inspector.get_indexes("person_scores")) == indexes
    assert inspector.get_foreign_keys("person_scores") == foreign_keys
    assert len(indexes) == 3 and foreign_keys[0]["referred_table"] == "people"

    # and writing the same values again changes no row; a changed value changes one
    assert write_scores(connection, **_refreshed(connection, _parts(ids, "1.b", reasons))) == []
    reasons[2] = orjson.dumps([{"feature": "churned", "value": "cancellation"}]).decode()
    assert write_scores(connection, **_refreshed(connection, _parts(ids, "1.c", reasons))) == [
        ids[2]
    ]


def _stored(connection) -> dict[int, tuple]:
    rows = connection.exec_driver_sql(
        "SELECT s.person_id, s.recency_days, r.model_version, s.churn_reasons "
        "FROM person_scores s JOIN score_refreshes r ON r.id = s.refresh_id"
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def test_a_refresh_changing_most_rows_refills_the_table_and_one_changing_few_replaces_them(
    session,
):
    # Given scores for three of four people
    connection = session.connection()
    ids = add_people(connection, 4)
    inspector = inspect(connection)
    indexes = sorted(ix["name"] for ix in inspector.get_indexes("person_scores"))
    foreign_keys = inspector.get_foreign_keys("person_scores")
    reasons = [orjson.dumps([{"feature": "frequency", "value": i}]).decode() for i in range(3)]
    write_scores(connection, **_refreshed(connection, _parts(ids[:3], "1.a", reasons)))

    # When the next refresh (a day later: every recency moves) drops the first person
    # and adds the fourth
    later = _parts(ids[1:], "1.b", reasons)
    later["summary"]["recency_days"] += 1
    changed = write_scores(connection, **_refreshed(connection, later))

    # Then all four are reported, and the table holds exactly the new rows, the
    # reasons as the very text written
    assert changed == sorted(ids)
    assert _stored(connection) == {
        person: (4, "1.b", reasons[i]) for i, person in enumerate(ids[1:])
    }
    # with its indexes and foreign key back
    inspector = inspect(connection)
    assert sorted(ix["name"] for ix in inspector.get_indexes("person_scores")) == indexes
    assert inspector.get_foreign_keys("person_scores") == foreign_keys

    # When only one row's values change
    reasons[0] = orjson.dumps([{"feature": "revenue", "value": 1.5}]).decode()
    again = _parts(ids[1:], "1.c", reasons)
    again["summary"]["recency_days"] += 1
    assert write_scores(connection, **_refreshed(connection, again)) == [ids[1]]

    # Then only that row is rewritten (and says which refresh wrote it)
    assert _stored(connection) == {
        ids[1]: (4, "1.c", reasons[0]),
        ids[2]: (4, "1.b", reasons[1]),
        ids[3]: (4, "1.b", reasons[2]),
    }
    session.expire_all()
    assert session.get(PersonScore, ids[1]).churn_reasons == [{"feature": "revenue", "value": 1.5}]


def test_a_refresh_on_another_day_replaces_every_row(session):
    # Given scores as of a day, for three of four people
    connection = session.connection()
    ids = add_people(connection, 4)
    reasons = [orjson.dumps([{"feature": "frequency", "value": i}]).decode() for i in range(3)]
    write_scores(connection, **_refreshed(connection, _parts(ids[:3], "1.a", reasons)))
    indexes = sorted(ix["name"] for ix in inspect(connection).get_indexes("person_scores"))

    # When the next day's refresh drops the first person and adds the fourth
    later = _parts(ids[1:], "1.b", reasons)
    later["meta"]["as_of"] = AS_OF + timedelta(days=1)
    changed = write_scores(connection, **_refreshed(connection, later))

    # Then every row is replaced (a day later every customer's age is another): all four
    # people are reported, the table holds the new rows as of the new day, indexed
    assert changed == sorted(ids)
    assert _stored(connection) == {
        person: (3, "1.b", reasons[i]) for i, person in enumerate(ids[1:])
    }
    as_of = (
        connection.execute(
            select(ScoreRefresh.as_of).where(ScoreRefresh.id.in_(select(PersonScore.refresh_id)))
        )
        .scalars()
        .all()
    )
    assert as_of == [AS_OF + timedelta(days=1)]
    assert sorted(ix["name"] for ix in inspect(connection).get_indexes("person_scores")) == indexes


def test_readers_keep_reading_while_the_next_night_refills_postgres(fresh_database_url, backend):
    """On PostgreSQL the refill loads a new table and swaps it in: a reader of the
    scores (the 360 view joins them) is not locked out while the rows load."""
    if backend != "postgresql":
        pytest.skip("SQLite: WAL readers read the last commit whatever the writer holds")
    engine = create_db_engine(fresh_database_url)
    with engine.begin() as connection:
        ids = add_people(connection, 3)
        write_scores(connection, **_refreshed(connection, _parts(ids, "1.a", [None, None, None])))
        keys = _keys(connection)
    seen: list[list[int]] = []

    def read_meanwhile() -> None:
        with engine.connect() as reader:
            reader.exec_driver_sql("SET lock_timeout = '2s'")
            seen.append(sorted(reader.scalars(select(PersonScore.person_id))))

    later = _parts(ids[1:], "1.b", [None, None])
    later["meta"]["as_of"] = AS_OF + timedelta(days=1)
    later["meta"]["refresh_id"] = 2  # the refill compares nothing: no refresh row needed
    churn = later.pop("churn")
    frame = score_frame(**later)
    with engine.begin() as connection:

        def load_and_read(table: str) -> None:
            load_frame(connection, frame, churn, table)
            reader = threading.Thread(target=read_meanwhile)
            reader.start()
            reader.join(10)

        refill(connection, load_and_read)

    # Then the reader saw the old rows without waiting, and the new table took the old
    # one's name, keys and indexes
    assert seen == [sorted(ids)]
    with engine.connect() as connection:
        assert sorted(connection.scalars(select(PersonScore.person_id))) == sorted(ids[1:])
        assert _keys(connection) == keys
    engine.dispose()


def _keys(connection) -> dict:
    found = inspect(connection)
    return {
        "primary": found.get_pk_constraint("person_scores"),
        "foreign": found.get_foreign_keys("person_scores"),
        "indexes": sorted(ix["name"] for ix in found.get_indexes("person_scores")),
    }


def test_many_rows_load_whole_statements_blocks_and_the_rest(session, monkeypatch):
    """SQLite inserts rows 20 to a statement, laid out a block at a time, and the last
    few one by one; PostgreSQL copies in blocks. Every row reads back as written."""
    monkeypatch.setattr(writes, "SQLITE_BLOCK_ROWS", 40)  # two statements per block
    monkeypatch.setattr(writes, "COPY_BLOCK_ROWS", 40)
    connection = session.connection()
    ids = add_people(connection, 107)  # 2 whole blocks, 1 part block, 7 left over
    parts = _parts(ids[:3], "1.a", [None, None, None])
    n = len(ids)
    index = pd.Index(ids, name="person_id")
    rng = np.random.default_rng(7)
    parts["summary"] = pd.DataFrame(
        {
            "purchase_days": rng.integers(1, 9, n),
            "frequency": rng.integers(0, 8, n),
            "recency_days": rng.integers(0, 400, n),
            "T": rng.integers(400, 800, n),
            "monetary": rng.random(n) * 1000,
            "revenue": rng.integers(0, 10**6, n),
        },
        index=index,
    )
    clv = np.round(rng.random(n) * 1e5)  # the refresh rounds CLV to whole minor units
    clv[::5] = np.nan
    parts["scores"] = pd.DataFrame(
        {
            "p_alive": rng.random(n),
            "expected_purchases_90d": rng.random(n),
            "clv_12m_minor": clv,
            "r_score": rng.integers(1, 6, n),
            "f_score": rng.integers(1, 6, n),
            "m_score": rng.integers(1, 6, n),
            "rfm_segment": [f"segment {i % 11}" for i in range(n)],
        },
        index=index,
    )
    probability = pd.Series(rng.random(n), index=index)
    reasons = [None if i % 3 else f'[["frequency",{i},0.5]]' for i in range(n)]
    parts["churn"] = KnownChurn(probability, pd.Series(reasons, index=index, dtype=object))
    parts["refunds"] = pd.Series(dtype=float)

    changed = write_scores(connection, **_refreshed(connection, parts))

    assert changed == sorted(ids)
    stored = {
        row[0]: tuple(row[1:])
        for row in connection.execute(
            select(
                PersonScore.person_id,
                PersonScore.age_days,
                PersonScore.clv_12m_minor,
                PersonScore.rfm_segment,
                PersonScore.churn_probability,
                PersonScore.churn_reasons,
            )
        )
    }
    expected = {
        person: (
            int(parts["summary"]["T"].iloc[i]),
            None if np.isnan(clv[i]) else round(clv[i]),
            f"segment {i % 11}",
            probability.iloc[i],
            None if i % 3 else [["frequency", i, 0.5]],
        )
        for i, person in enumerate(ids)
    }
    assert stored == expected
