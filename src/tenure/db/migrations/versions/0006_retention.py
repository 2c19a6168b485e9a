"""retention: settings, refreshes, P(alive) history, risk scores, alert episodes, NBA rules

Revision ID: 0006_retention
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0006_retention"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_settings",
        sa.Column("id", ID, nullable=False),
        sa.Column("values", JSON, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("updated_by_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_retention_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_settings")),
    )
    op.create_table(
        "retention_refreshes",
        sa.Column("id", ID, nullable=False),
        sa.Column("as_of", TIME, nullable=False),
        sa.Column("computed_at", TIME, nullable=False),
        sa.Column("scores_version", sa.String(length=40), nullable=True),
        sa.Column("scores_as_of", TIME, nullable=True),
        sa.Column("p_alive_snapshot", sa.Boolean(), nullable=False),
        sa.Column("customers_with_signals", sa.Integer(), nullable=False),
        sa.Column("above_threshold", sa.Integer(), nullable=False),
        sa.Column("alerts_opened", sa.Integer(), nullable=False),
        sa.Column("alerts_closed", sa.Integer(), nullable=False),
        sa.Column("tasks_created", sa.Integer(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_refreshes")),
    )
    op.create_table(
        "p_alive_history",
        sa.Column("refresh_id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_p_alive_history_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refresh_id"],
            ["retention_refreshes.id"],
            name=op.f("fk_p_alive_history_refresh_id_retention_refreshes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("refresh_id", "person_id", name=op.f("pk_p_alive_history")),
    )
    op.create_index("ix_p_alive_history_person_id", "p_alive_history", ["person_id"])
    op.create_table(
        "risk_scores",
        sa.Column("person_id", ID, nullable=False),
        sa.Column("as_of", TIME, nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=True),
        sa.Column("value_at_risk_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("computed_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_risk_scores_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_risk_scores")),
    )
    op.create_index(
        "ix_risk_scores_value_at_risk", "risk_scores", ["value_at_risk_minor", "person_id"]
    )
    op.create_index("ix_risk_scores_risk", "risk_scores", ["risk"])
    op.create_table(
        "retention_alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("opened_at", TIME, nullable=False),
        sa.Column("opened_as_of", TIME, nullable=False),
        sa.Column("closed_at", TIME, nullable=True),
        sa.Column("closed_as_of", TIME, nullable=True),
        sa.Column("risk_at_open", sa.Float(), nullable=False),
        sa.Column("last_risk", sa.Float(), nullable=False),
        sa.Column("peak_risk", sa.Float(), nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("notified_at", TIME, nullable=True),
        sa.Column("task_id", ID, nullable=True),
        sa.Column("assignee_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_retention_alerts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_retention_alerts_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_retention_alerts_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_alerts")),
    )
    op.create_index(
        "uq_retention_alerts_open_person",
        "retention_alerts",
        ["person_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_retention_alerts_person", "retention_alerts", ["person_id", "opened_at"])
    op.create_table(
        "nba_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("mined_at", TIME, nullable=False),
        sa.Column("as_of", TIME, nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("min_support", sa.Integer(), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("popularity", JSON, nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_nba_runs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nba_runs")),
    )
    op.create_table(
        "nba_rules",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("antecedent", sa.String(length=100), nullable=False),
        sa.Column("consequent", sa.String(length=100), nullable=False),
        sa.Column("anchors", sa.Integer(), nullable=False),
        sa.Column("support_count", sa.Integer(), nullable=False),
        sa.Column("support", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("base_rate", sa.Float(), nullable=False),
        sa.Column("lift", sa.Float(), nullable=False),
        sa.Column("median_lag_days", sa.Float(), nullable=False),
        sa.Column("lag_p25_days", sa.Float(), nullable=False),
        sa.Column("lag_p75_days", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["nba_runs.id"],
            name=op.f("fk_nba_rules_run_id_nba_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nba_rules")),
    )
    op.create_index("ix_nba_rules_run_id", "nba_rules", ["run_id"])
    op.create_index("ix_nba_rules_level_antecedent", "nba_rules", ["level", "antecedent"])


def downgrade() -> None:
    op.drop_index("ix_nba_rules_level_antecedent", table_name="nba_rules")
    op.drop_index("ix_nba_rules_run_id", table_name="nba_rules")
    op.drop_table("nba_rules")
    op.drop_table("nba_runs")
    op.drop_index("ix_retention_alerts_person", table_name="retention_alerts")
    op.drop_index("uq_retention_alerts_open_person", table_name="retention_alerts")
    op.drop_table("retention_alerts")
    op.drop_index("ix_risk_scores_risk", table_name="risk_scores")
    op.drop_index("ix_risk_scores_value_at_risk", table_name="risk_scores")
    op.drop_table("risk_scores")
    op.drop_index("ix_p_alive_history_person_id", table_name="p_alive_history")
    op.drop_table("p_alive_history")
    op.drop_table("retention_refreshes")
    op.drop_table("retention_settings")
