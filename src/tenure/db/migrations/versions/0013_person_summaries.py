"""person summaries: the customer read model (one JSON document per person)

The table starts empty: a missing row reads as stale (assembled on read), and
``tenure init`` / ``tenure summaries rebuild`` build the rows of an existing database.

Revision ID: 0013_person_summaries
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0013_person_summaries"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "person_summaries",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("card", sa.Text(), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("built_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_summaries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_summaries")),
    )
    op.create_index(
        "ix_person_summaries_stale",
        "person_summaries",
        ["person_id"],
        postgresql_where=sa.text("stale"),
        sqlite_where=sa.text("stale"),
    )


def downgrade() -> None:
    op.drop_index("ix_person_summaries_stale", table_name="person_summaries")
    op.drop_table("person_summaries")
