"""stage placements: the marks of each batch stage placement (incremental re-placement)

Revision ID: 0014_stage_placements
Revises: 0005_lifecycle
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0014_stage_placements"
down_revision: str | None = "0005_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stage_placements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("as_of", _TIME, nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("rules_key", sa.String(length=64), nullable=False),
        sa.Column("scores_fitted_at", _TIME, nullable=True),
        sa.Column("event_id", _ID, nullable=True),
        sa.Column("people_updated_at", _TIME, nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_placements")),
    )


def downgrade() -> None:
    op.drop_table("stage_placements")
