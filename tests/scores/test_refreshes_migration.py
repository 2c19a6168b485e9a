"""Migration 0019_score_refreshes: a refresh's as-of, currency, version and fit time move
from every score row to one row per refresh, and each score row keeps its refresh."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database
from tenure.scores.models import PersonScore, ScoreRefresh

_PERSON = (
    "INSERT INTO people (id, first_name, last_name, attributes, search_text, created_at, "
    "updated_at) VALUES (:id, 'A', 'B', '{}', 'a b', '2025-01-01', '2025-01-01')"
)
_SCORE = (
    "INSERT INTO person_scores (person_id, as_of, currency, purchase_days, frequency, "
    "recency_days, age_days, monetary_minor, revenue_minor, historical_clv_minor, r_score, "
    "f_score, m_score, rfm_segment, model_version, fitted_at) VALUES (:id, :as_of, 'EUR', "
    "2, 1, 40, 90, 100, 200, 50, 3, 3, 3, 'loyal', :version, :fitted_at)"
)
_REPORT = (
    "INSERT INTO model_reports (model, version, status, as_of, fitted_at, n_customers, "
    "params, standard_errors, metrics) VALUES ('bgnbd', :version, 'fitted', :as_of, "
    ":fitted_at, 3, '{}', '{}', '{}')"
)
DAY_1 = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
DAY_2 = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
DAY_3 = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


def test_each_score_row_keeps_the_refresh_that_wrote_it(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    # Given score rows of two refreshes, and a later refresh that changed no row (its
    # reports only), stored the way before the revision
    command.downgrade(alembic_config(fresh_database_url), "0018_churn_reasons_text")
    with engine.begin() as connection:
        assert "score_refreshes" not in inspect(connection).get_table_names()
        for person, (version, at) in {
            1: ("1.b", DAY_2),
            2: ("1.a", DAY_1),
            3: ("1.b", DAY_2),
        }.items():
            connection.execute(text(_PERSON), {"id": person})
            connection.execute(
                text(_SCORE), {"id": person, "as_of": at, "version": version, "fitted_at": at}
            )
        for version, at in (("1.a", DAY_1), ("1.b", DAY_2), ("1.c", DAY_3)):
            connection.execute(text(_REPORT), {"version": version, "as_of": at, "fitted_at": at})

    # When the database is upgraded
    upgrade_database(engine)

    # Then there is one refresh per version, numbered in the order they were fitted, each
    # score row names its own, and the currency carries over
    with Session(engine) as session:
        refreshes = session.scalars(select(ScoreRefresh).order_by(ScoreRefresh.id)).all()
        assert [(r.model_version, r.as_of, r.fitted_at, r.currency) for r in refreshes] == [
            ("1.a", DAY_1, DAY_1, "EUR"),
            ("1.b", DAY_2, DAY_2, "EUR"),
            ("1.c", DAY_3, DAY_3, "EUR"),
        ]
        ids = {r.model_version: r.id for r in refreshes}
        rows = dict(session.execute(select(PersonScore.person_id, PersonScore.refresh_id)).all())
        assert rows == {1: ids["1.b"], 2: ids["1.a"], 3: ids["1.b"]}
        columns = {c["name"] for c in inspect(session.connection()).get_columns("person_scores")}
        assert not columns & {"as_of", "currency", "model_version", "fitted_at"}

    # and going back down puts each row's values back
    command.downgrade(alembic_config(fresh_database_url), "0018_churn_reasons_text")
    with engine.connect() as connection:
        back = connection.execute(
            text("SELECT person_id, model_version, currency FROM person_scores ORDER BY 1")
        ).all()
    assert [tuple(r) for r in back] == [(1, "1.b", "EUR"), (2, "1.a", "EUR"), (3, "1.b", "EUR")]
    upgrade_database(engine)
    engine.dispose()
