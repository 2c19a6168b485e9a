"""score refreshes: a refresh's as-of, currency, version and fit time kept once

``person_scores`` carried four values that are the same for every row a refresh wrote
(``as_of``, ``currency``, ``model_version``, ``fitted_at``): a fifth of the table's
bytes, written again for a million rows every night. They move to ``score_refreshes``,
one row per refresh, and each score row keeps ``refresh_id``, the refresh that last
changed it. The refreshes also keep the reason every customer who had churned already
shares (``churned_reason``; a refresh writes no reasons of theirs per row); rows written
before keep theirs until the next refresh.

The refreshes are rebuilt from the versions the score rows and the model reports name
(a refresh that changed no row left reports only), numbered in the order they were
fitted, so the newest refresh has the highest id.

Revision ID: 0019_score_refreshes
Revises: 0018_churn_reasons_text
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from tenure.db.types import Id, UTCDateTime

revision: str = "0019_score_refreshes"
down_revision: str | None = "0018_churn_reasons_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

META = ("as_of", "currency", "model_version", "fitted_at")


def upgrade() -> None:
    refreshes = op.create_table(
        "score_refreshes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("fitted_at", UTCDateTime(), nullable=False),
        sa.Column("churned_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("model_version", name="uq_score_refreshes_model_version"),
    )
    bind = op.get_bind()
    scores = sa.table(
        "person_scores",
        sa.column("person_id", Id),
        sa.column("refresh_id", Id),
        *(sa.column(name, UTCDateTime() if name in ("as_of", "fitted_at") else sa.String())
          for name in META),
    )
    reports = sa.table(
        "model_reports",
        sa.column("version", sa.String()),
        sa.column("as_of", UTCDateTime()),
        sa.column("fitted_at", UTCDateTime()),
    )
    found: dict[str, tuple[datetime, str | None, datetime]] = {}
    for version, as_of, currency, fitted_at in bind.execute(
        sa.select(
            scores.c.model_version,
            sa.func.max(scores.c.as_of),
            sa.func.max(scores.c.currency),
            sa.func.max(scores.c.fitted_at),
        ).group_by(scores.c.model_version)
    ):
        found[version] = (as_of, currency, fitted_at)
    currencies = {currency for _, currency, _ in found.values() if currency}
    # Reports of refreshes that left no row: the scores' own currency (one per table).
    fallback = min(currencies) if currencies else "USD"
    for version, as_of, fitted_at in bind.execute(
        sa.select(reports.c.version, sa.func.max(reports.c.as_of), sa.func.max(reports.c.fitted_at))
        .group_by(reports.c.version)
    ):
        found.setdefault(version, (as_of, fallback, fitted_at))
    ordered = sorted(found.items(), key=lambda item: (item[1][2], item[0]))
    if ordered:
        bind.execute(
            refreshes.insert(),
            [
                {"model_version": v, "as_of": a, "currency": c or fallback, "fitted_at": f}
                for v, (a, c, f) in ordered
            ],
        )
    with op.batch_alter_table("person_scores") as batch:
        batch.add_column(sa.Column("refresh_id", Id, nullable=True))
    bind.execute(
        scores.update().values(
            refresh_id=sa.select(refreshes.c.id)
            .where(refreshes.c.model_version == scores.c.model_version)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("person_scores") as batch:
        batch.alter_column("refresh_id", existing_type=Id, nullable=False)
        for name in META:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("person_scores") as batch:
        batch.add_column(sa.Column("as_of", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("model_version", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("fitted_at", UTCDateTime(), nullable=True))
    for name in META:
        op.execute(
            f"UPDATE person_scores SET {name} = (SELECT r.{name} FROM score_refreshes r "
            "WHERE r.id = person_scores.refresh_id)"
        )
    with op.batch_alter_table("person_scores") as batch:
        batch.drop_column("refresh_id")
        batch.alter_column("as_of", existing_type=UTCDateTime(), nullable=False)
        batch.alter_column("currency", existing_type=sa.String(length=3), nullable=False)
        batch.alter_column("model_version", existing_type=sa.String(length=40), nullable=False)
        batch.alter_column("fitted_at", existing_type=UTCDateTime(), nullable=False)
    op.drop_table("score_refreshes")
