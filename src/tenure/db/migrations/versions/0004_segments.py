"""segments: segments, segment_members, segment_snapshots

Revision ID: 0004_segments
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0004_segments"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # The built-in RFM and value-tier segments are created by
    # tenure.segments.builtins.ensure_builtin_segments, so they are defined in one place.
    op.create_table(
        "segments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("filter", sa.Text(), nullable=True),
        sa.Column("builtin_key", sa.String(length=40), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", _TIME, nullable=True),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_segments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("builtin_key", name=op.f("uq_segments_builtin_key")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("entered_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_segment_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_members_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "person_id", name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_person_id", "segment_members", ["person_id"])
    op.create_table(
        "segment_snapshots",
        sa.Column("id", _ID, nullable=False),
        sa.Column("segment_id", _ID, nullable=False),
        sa.Column("taken_at", _TIME, nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_snapshots_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_snapshots")),
    )
    op.create_index(
        "ix_segment_snapshots_segment_id_taken_at", "segment_snapshots", ["segment_id", "taken_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_segment_snapshots_segment_id_taken_at", table_name="segment_snapshots")
    op.drop_table("segment_snapshots")
    op.drop_index("ix_segment_members_person_id", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_table("segments")
