"""churn reasons as JSON text: ``person_scores.churn_reasons`` from jsonb to text

The reasons are read whole (the person page, the API) and never queried into, and a
refresh writes them for every customer: parsing them into ``jsonb`` was most of the cost
of the refresh's ``COPY``. SQLite already stores JSON as text; nothing changes there.
The stored values keep their meaning; their text is PostgreSQL's rendering of the
``jsonb`` until the next refresh rewrites them.

Revision ID: 0018_churn_reasons_text
Revises: 0002_scores
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_churn_reasons_text"
down_revision: str | None = "0002_scores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE person_scores ALTER COLUMN churn_reasons TYPE text "
            "USING churn_reasons::text"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE person_scores ALTER COLUMN churn_reasons TYPE jsonb "
            "USING churn_reasons::jsonb"
        )
