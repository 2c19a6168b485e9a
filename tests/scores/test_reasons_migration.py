"""Migration 0018_churn_reasons_text: PostgreSQL keeps the churn reasons as JSON text."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tenure.db.engine import create_db_engine
from tenure.db.migrate import alembic_config, upgrade_database
from tenure.scores.models import PersonScore

REASONS = [{"feature": "recency_days", "value": 40.0, "contribution": 0.25}]
_PERSON = (
    "INSERT INTO people (id, first_name, last_name, attributes, search_text, created_at, "
    "updated_at) VALUES (1, 'A', 'B', '{}', 'a b', '2025-01-01', '2025-01-01')"
)
_SCORE = (
    "INSERT INTO person_scores (person_id, as_of, currency, purchase_days, frequency, "
    "recency_days, age_days, monetary_minor, revenue_minor, historical_clv_minor, r_score, "
    "f_score, m_score, rfm_segment, churn_reasons, model_version, fitted_at) VALUES (1, "
    "'2025-01-01', 'USD', 2, 1, 40, 90, 100, 200, 50, 3, 3, 3, 'loyal', "
    "CAST(:reasons AS jsonb), '1.a', '2025-01-01')"
)


def _column_type(connection) -> str:
    return connection.execute(
        text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'person_scores' AND column_name = 'churn_reasons'"
        )
    ).scalar_one()


def test_stored_reasons_survive_the_change_from_jsonb_to_text(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite stores JSON as text already: the revision changes nothing there")
    # Given reasons stored as jsonb, before the revision
    command.downgrade(alembic_config(fresh_database_url), "0002_scores")
    with engine.begin() as connection:
        assert _column_type(connection) == "jsonb"
        connection.execute(text(_PERSON))
        connection.execute(
            text(_SCORE),
            {"reasons": '[{"feature": "recency_days", "value": 40.0, "contribution": 0.25}]'},
        )

    # When the database is upgraded
    upgrade_database(engine)

    # Then the column is text and the reasons read back as they were
    with engine.begin() as connection:
        assert _column_type(connection) == "text"
    with Session(engine) as session:
        assert session.scalars(select(PersonScore.churn_reasons)).one() == REASONS
    engine.dispose()
