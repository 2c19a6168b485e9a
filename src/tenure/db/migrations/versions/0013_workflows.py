"""workflows: definitions, published versions, enrolments and their step rows

Revision ID: 0013_workflows
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0013_workflows"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "draft",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "published_version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("last_fired_at", tenure.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_workflows_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("name", name=op.f("uq_workflows_name")),
    )
    op.create_table(
        "workflow_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workflow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "published_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("published_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_workflow_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_versions_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_versions")),
        sa.UniqueConstraint(
            "workflow_id", "number", name=op.f("uq_workflow_versions_workflow_id_number")
        ),
    )
    op.create_table(
        "workflow_enrolments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workflow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("current_step", sa.String(length=100), nullable=True),
        sa.Column("entered_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", tenure.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column(
            "trigger_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_workflow_enrolments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["workflow_versions.id"],
            name=op.f("fk_workflow_enrolments_version_id_workflow_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_enrolments_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_enrolments")),
        sa.UniqueConstraint(
            "workflow_id",
            "person_id",
            "entry_key",
            name=op.f("uq_workflow_enrolments_workflow_id_person_id_entry_key"),
        ),
    )
    with op.batch_alter_table("workflow_enrolments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workflow_enrolments_person_state", ["person_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_workflow_enrolments_workflow_state",
            ["workflow_id", "state", "person_id"],
            unique=False,
        )

    op.create_table(
        "workflow_enrolment_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", tenure.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ran_at", tenure.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["workflow_enrolments.id"],
            name=op.f("fk_workflow_enrolment_steps_enrolment_id_workflow_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_enrolment_steps")),
    )
    with op.batch_alter_table("workflow_enrolment_steps", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_enrolment_steps_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workflow_enrolment_steps_enrolment_id"), ["enrolment_id"], unique=False
        )
        batch_op.create_index("uq_workflow_enrolment_steps_key", ["idempotency_key"], unique=True)
    op.create_table(
        "workflow_score_marks",
        sa.Column(
            "workflow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_workflow_score_marks_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_score_marks_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", "person_id", name=op.f("pk_workflow_score_marks")),
    )


def downgrade() -> None:
    op.drop_table("workflow_score_marks")
    with op.batch_alter_table("workflow_enrolment_steps", schema=None) as batch_op:
        batch_op.drop_index("uq_workflow_enrolment_steps_key")
        batch_op.drop_index(batch_op.f("ix_workflow_enrolment_steps_enrolment_id"))
        batch_op.drop_index("ix_workflow_enrolment_steps_due")

    op.drop_table("workflow_enrolment_steps")
    with op.batch_alter_table("workflow_enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_enrolments_workflow_state")
        batch_op.drop_index("ix_workflow_enrolments_person_state")

    op.drop_table("workflow_enrolments")
    op.drop_table("workflow_versions")
    op.drop_table("workflows")
