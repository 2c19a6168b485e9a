"""order totals: per-customer order totals kept by triggers on events

``order_totals`` holds each customer's order count, purchase days, first and last order
day, revenue, first day's total and refunds; triggers on ``events`` keep it current on every write
(``tenure.timeline.order_totals``). The table is filled from the existing events once.

Revision ID: 0017_order_totals
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenure.timeline import order_totals

revision: str = "0017_order_totals"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_totals",
        sa.Column(
            "person_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("order_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("order_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_order_day", sa.Integer(), nullable=True),
        sa.Column("last_order_day", sa.Integer(), nullable=True),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=True),
        sa.Column("first_day_revenue_minor", sa.BigInteger(), nullable=True),
        sa.Column("refund_minor", sa.BigInteger(), nullable=True),
    )
    connection = op.get_bind()
    order_totals.install(connection)
    order_totals.rebuild(connection)


def downgrade() -> None:
    order_totals.uninstall(op.get_bind())
    op.drop_table("order_totals")
