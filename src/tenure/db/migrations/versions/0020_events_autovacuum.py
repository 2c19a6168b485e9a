"""events: autovacuum after 1% new rows, so that recent events are read from the indexes

The nightly refresh reads the newest events (the 270 days of its windows, the orders
after the churn cutoff) by index-only scans of ``ix_events_time`` and
``ix_events_person_type_time``. PostgreSQL reads an index entry without its row only
on pages its visibility map marks all-visible, which VACUUM sets; on an insert-only
table autovacuum comes after ``autovacuum_vacuum_insert_scale_factor`` (20%) of the
table is new rows: 2.6M events at 13M, the very events the refresh reads. At 1M
customers the window counts took 2.5 s with 250k row fetches, 1.0 s after a VACUUM. At
1% autovacuum comes after 130k new events, and each run visits the new pages only.
SQLite has no visibility map: nothing to change there.

Revision ID: 0020_events_autovacuum
Revises: 0019_score_refreshes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_events_autovacuum"
down_revision: str | None = "0019_score_refreshes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events SET (autovacuum_vacuum_insert_scale_factor = 0.01)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events RESET (autovacuum_vacuum_insert_scale_factor)")
