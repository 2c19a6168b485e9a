"""scores: person_scores and model_reports

Revision ID: 0002_scores
Revises: 0001
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0002_scores"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "person_scores",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("as_of", _TIME, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purchase_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("age_days", sa.Integer(), nullable=False),
        sa.Column("monetary_minor", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.Column("historical_clv_minor", sa.BigInteger(), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=True),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=True),
        sa.Column("clv_12m_minor", sa.BigInteger(), nullable=True),
        sa.Column("r_score", sa.SmallInteger(), nullable=False),
        sa.Column("f_score", sa.SmallInteger(), nullable=False),
        sa.Column("m_score", sa.SmallInteger(), nullable=False),
        sa.Column("rfm_segment", sa.String(length=30), nullable=False),
        sa.Column("churn_probability", sa.Float(), nullable=True),
        sa.Column("churn_reasons", _JSON, nullable=True),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("fitted_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_scores_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_scores")),
    )
    with op.batch_alter_table("person_scores", schema=None) as batch_op:
        batch_op.create_index("ix_person_scores_churn_probability", ["churn_probability"])
        batch_op.create_index("ix_person_scores_clv_12m_minor", ["clv_12m_minor"])
        batch_op.create_index("ix_person_scores_rfm_segment", ["rfm_segment"])

    op.create_table(
        "model_reports",
        sa.Column("id", _ID, nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("as_of", _TIME, nullable=False),
        sa.Column("fitted_at", _TIME, nullable=False),
        sa.Column("n_customers", sa.Integer(), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("log_likelihood", sa.Float(), nullable=True),
        sa.Column("standard_errors", _JSON, nullable=False),
        sa.Column("metrics", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_reports")),
    )
    with op.batch_alter_table("model_reports", schema=None) as batch_op:
        batch_op.create_index("ix_model_reports_model_fitted_at", ["model", "fitted_at"])


def downgrade() -> None:
    with op.batch_alter_table("model_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_model_reports_model_fitted_at")
    op.drop_table("model_reports")
    with op.batch_alter_table("person_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_person_scores_rfm_segment")
        batch_op.drop_index("ix_person_scores_clv_12m_minor")
        batch_op.drop_index("ix_person_scores_churn_probability")
    op.drop_table("person_scores")
