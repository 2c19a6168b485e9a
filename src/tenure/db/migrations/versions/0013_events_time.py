"""events time index: the whole event log newest first (Home's recent activity)

Without it, Home's "recent activity" (the ten newest events of the base or of a book)
sorted every event: 1.7 s at 1M events, 17 s at 10M.

Revision ID: 0013_events_time
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_events_time"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_time", "events", ["occurred_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_time", table_name="events")
