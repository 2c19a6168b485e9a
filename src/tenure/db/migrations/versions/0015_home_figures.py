"""home figures: Home's key figures stored per book (the ``home.figures`` job)

The table starts empty: Home adds its figures up live until the job has run.

Revision ID: 0015_home_figures
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0015_home_figures"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "home_figures",
        sa.Column("book", sa.String(length=40), nullable=False),
        sa.Column(
            "figures", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("as_of", _TIME, nullable=False),
        sa.Column("computed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("book", name=op.f("pk_home_figures")),
    )


def downgrade() -> None:
    op.drop_table("home_figures")
