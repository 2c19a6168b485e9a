"""dedup: duplicate candidates (the review queue) and merges (with what undo needs)

Revision ID: 0007_dedup
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0007_dedup"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survivor_id", sa.BigInteger(), nullable=False),
        sa.Column("loser_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("merged_at", _TIME, nullable=False),
        sa.Column("merged_by_id", _ID, nullable=True),
        sa.Column("loser_snapshot", _JSON, nullable=False),
        sa.Column("survivor_before", _JSON, nullable=False),
        sa.Column("survivor_after", _JSON, nullable=False),
        sa.Column("decisions", _JSON, nullable=False),
        sa.Column("moves", _JSON, nullable=False),
        sa.Column("undone_at", _TIME, nullable=True),
        sa.Column("undone_by_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_by_id"],
            ["users.id"],
            name=op.f("fk_merges_merged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"],
            ["users.id"],
            name=op.f("fk_merges_undone_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merges")),
    )
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.create_index("ix_merges_loser_id", ["loser_id"], unique=False)
        batch_op.create_index("ix_merges_survivor_id", ["survivor_id"], unique=False)

    op.create_table(
        "duplicate_candidates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("left_id", sa.BigInteger(), nullable=False),
        sa.Column("right_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("found_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("resolved_by_id", _ID, nullable=True),
        sa.Column("merge_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["merges.id"],
            name=op.f("fk_duplicate_candidates_merge_id_merges"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_candidates_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_candidates")),
        sa.UniqueConstraint(
            "left_id", "right_id", name=op.f("uq_duplicate_candidates_left_id_right_id")
        ),
    )
    with op.batch_alter_table("duplicate_candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duplicate_candidates_queue", ["status", "score", "id"], unique=False
        )
        batch_op.create_index("ix_duplicate_candidates_right_id", ["right_id"], unique=False)


def downgrade() -> None:
    op.drop_table("duplicate_candidates")
    op.drop_table("merges")
