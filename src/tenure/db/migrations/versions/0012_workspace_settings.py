"""workspace: default currency, time zone and phone region set on the settings page

Revision ID: 0012_workspace_settings
Revises: 0001

Null keeps the server's default (TENURE_DEFAULT_CURRENCY, TENURE_DEFAULT_PHONE_REGION, UTC).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_workspace_settings"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(sa.Column("default_currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phone_region", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("phone_region")
        batch.drop_column("time_zone")
        batch.drop_column("default_currency")
