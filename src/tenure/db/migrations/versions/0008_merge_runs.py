"""merge runs: a scan's merges recorded as one run that undoes as a whole

Adds ``merge_runs`` and, on ``merges``, the run that made a merge (``run_id``) and what
an undo could not restore (``undo_notes``). Columns are added in place (no table copy on
SQLite: copying ``merges`` would null ``duplicate_candidates.merge_id`` through its
ON DELETE SET NULL when the old table is dropped).

Revision ID: 0008_merge_runs
Revises: 0007_dedup
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tenure.db.types

revision: str = "0008_merge_runs"
down_revision: str | None = "0007_dedup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merge_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("started_by_id", _ID, nullable=True),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("undone_at", _TIME, nullable=True),
        sa.Column("undone_by_id", _ID, nullable=True),
        sa.Column("undo_notes", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["users.id"],
            name=op.f("fk_merge_runs_started_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"],
            ["users.id"],
            name=op.f("fk_merge_runs_undone_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_runs")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a foreign key in place (Alembic would copy the table).
        op.execute(
            "ALTER TABLE merges ADD COLUMN run_id INTEGER "
            "CONSTRAINT fk_merges_run_id_merge_runs REFERENCES merge_runs (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("merges", sa.Column("run_id", _ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_merges_run_id_merge_runs"),
            "merges",
            "merge_runs",
            ["run_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.add_column(
        "merges",
        sa.Column("undo_notes", _JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.create_index("ix_merges_run_id", "merges", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_merges_run_id", table_name="merges")
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.drop_column("undo_notes")
        batch_op.drop_column("run_id")
    op.drop_table("merge_runs")
