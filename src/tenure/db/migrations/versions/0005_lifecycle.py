"""lifecycle: stages, rules, settings, person stages and stage history

Revision ID: 0005_lifecycle
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0005_lifecycle"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # The default stage model is created by tenure.lifecycle.defaults on first use, so
    # that it lives in one place (code) rather than frozen here and there.
    op.create_table(
        "lifecycle_stages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("in_funnel", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_stages")),
        sa.UniqueConstraint("key", name=op.f("uq_lifecycle_stages_key")),
    )
    op.create_table(
        "lifecycle_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("stage_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("condition", _JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["lifecycle_stages.id"],
            name=op.f("fk_lifecycle_rules_stage_id_lifecycle_stages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_rules")),
    )
    with op.batch_alter_table("lifecycle_rules", schema=None) as batch_op:
        batch_op.create_index("ix_lifecycle_rules_priority_id", ["priority", "id"])
        batch_op.create_index(batch_op.f("ix_lifecycle_rules_stage_id"), ["stage_id"])
    op.create_table(
        "lifecycle_settings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("incremental", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_settings")),
    )
    op.create_table(
        "person_stages",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("stage_id", _ID, nullable=False),
        sa.Column("rule_id", _ID, nullable=True),
        sa.Column("entered_at", _TIME, nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by_id", _ID, nullable=True),
        sa.Column("override_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_stages_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["lifecycle_stages.id"],
            name=op.f("fk_person_stages_stage_id_lifecycle_stages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["lifecycle_rules.id"],
            name=op.f("fk_person_stages_rule_id_lifecycle_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"],
            ["users.id"],
            name=op.f("fk_person_stages_override_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_stages")),
    )
    with op.batch_alter_table("person_stages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_stages_stage_id"), ["stage_id"])
    op.create_table(
        "stage_history",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("from_stage_id", _ID, nullable=True),
        sa.Column("to_stage_id", _ID, nullable=False),
        sa.Column("changed_at", _TIME, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rule_id", _ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_stage_history_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["lifecycle_stages.id"],
            name=op.f("fk_stage_history_from_stage_id_lifecycle_stages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["lifecycle_stages.id"],
            name=op.f("fk_stage_history_to_stage_id_lifecycle_stages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["lifecycle_rules.id"],
            name=op.f("fk_stage_history_rule_id_lifecycle_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_stage_history_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_history")),
    )
    with op.batch_alter_table("stage_history", schema=None) as batch_op:
        batch_op.create_index("ix_stage_history_person_changed", ["person_id", "changed_at", "id"])
        batch_op.create_index("ix_stage_history_to_stage_changed", ["to_stage_id", "changed_at"])


def downgrade() -> None:
    with op.batch_alter_table("stage_history", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_history_to_stage_changed")
        batch_op.drop_index("ix_stage_history_person_changed")
    op.drop_table("stage_history")
    with op.batch_alter_table("person_stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_stages_stage_id"))
    op.drop_table("person_stages")
    op.drop_table("lifecycle_settings")
    with op.batch_alter_table("lifecycle_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifecycle_rules_stage_id"))
        batch_op.drop_index("ix_lifecycle_rules_priority_id")
    op.drop_table("lifecycle_rules")
    op.drop_table("lifecycle_stages")
