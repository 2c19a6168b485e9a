"""workspace clock: a workspace replaying history (the demo) has a fixed "now"

Revision ID: 0010_workspace_clock
Revises: 0001

An existing demo workspace gets the midnight after its newest purchase, as a new demo does.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0010_workspace_clock"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(sa.Column("fixed_now", _TIME, nullable=True))
    bind = op.get_bind()
    is_demo = bind.execute(sa.text("SELECT count(*) FROM workspace WHERE is_demo")).scalar()
    if not is_demo:
        return
    newest = bind.execute(
        sa.text("SELECT max(occurred_at) FROM events WHERE type = 'order'")
    ).scalar()
    if newest is None:
        return
    if isinstance(newest, str):  # SQLite hands back text without the type's processor
        newest = datetime.fromisoformat(newest)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    day_after = datetime.combine(newest.date() + timedelta(days=1), datetime.min.time(), UTC)
    workspace = sa.table("workspace", sa.column("is_demo"), sa.column("fixed_now", _TIME))
    bind.execute(
        workspace.update().where(workspace.c.is_demo.is_(True)).values(fixed_now=day_after)
    )


def downgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("fixed_now")
