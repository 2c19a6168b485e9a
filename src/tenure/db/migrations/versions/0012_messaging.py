"""messaging: the email outbox (messages) and the suppression list

Revision ID: 0012_messaging
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tenure.db.types

revision: str = "0012_messaging"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = tenure.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=998), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id_header", sa.String(length=250), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("template_version_id", _ID, nullable=True),
        sa.Column("campaign_key", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("job_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("run_at", _TIME, nullable=True),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("smtp_reply", sa.Text(), nullable=True),
        sa.Column("opened_at", _TIME, nullable=True),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_messages_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_messages_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_status_id", "messages", ["status", "id"])
    op.create_index("ix_messages_person_id", "messages", ["person_id", "id"])
    op.create_index(
        "ix_messages_person_purpose_sent", "messages", ["person_id", "purpose", "sent_at"]
    )
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index(
        "uq_messages_message_id_header", "messages", ["message_id_header"], unique=True
    )
    op.create_index(op.f("ix_messages_campaign_key"), "messages", ["campaign_key"])
    op.create_table(
        "suppressions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_suppressions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("address", name=op.f("uq_suppressions_address")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("messages")
