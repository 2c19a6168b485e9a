"""summary source stamp: the read model's card holds the person's own columns

``person_summaries.source_updated_at`` is the person's ``updated_at`` the card was built
from; a summary whose stamp differs reads as stale. Every summary is marked stale: the
card's shape changed, and the background rebuild (``summaries.catch_up``) rewrites them
while reads assemble stale ones afresh.

Revision ID: 0016_summary_source_stamp
Revises: 0013_person_summaries
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0016_summary_source_stamp"
down_revision: str | None = "0013_person_summaries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_summaries") as batch:
        batch.add_column(
            sa.Column(
                "source_updated_at", tenure.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(sa.text("UPDATE person_summaries SET stale = true WHERE NOT stale"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE person_summaries SET stale = true WHERE NOT stale"))
    with op.batch_alter_table("person_summaries") as batch:
        batch.drop_column("source_updated_at")
