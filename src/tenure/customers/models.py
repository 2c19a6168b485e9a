"""Tables of the customer repository."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow
from tenure.identity.models import User


class IdentityKind(enum.StrEnum):
    email = "email"
    phone = "phone"
    social = "social"
    external = "external"


class AttributeType(enum.StrEnum):
    text = "text"
    number = "number"
    date = "date"
    boolean = "boolean"
    choice = "choice"


class EntityKind(enum.StrEnum):
    person = "person"
    organization = "organization"


class ConsentStatus(enum.StrEnum):
    granted = "granted"
    withdrawn = "withdrawn"


person_tags = Table(
    "person_tags",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

organization_tags = Table(
    "organization_tags",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Organization(Base):
    __tablename__ = "organizations"
    # The list pages by name (keyset on name, id; migration 0012).
    __table_args__ = (
        Index("ix_organizations_name_id", "name", "id"),
        # A deleted id is never handed out again (migration 0013_autoincrement_ids).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tags: Mapped[list[Tag]] = relationship(secondary=organization_tags, lazy="selectin")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_created_at_id", "created_at", "id"),
        Index("ix_people_last_name_id", "last_name", "id"),
        # A merged-away or deleted id is never handed out again (migration 0009).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str | None] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # Lowercased names and identities, kept by customers.actions for substring search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=person_tags, lazy="selectin")
    organization: Mapped[Organization | None] = relationship(lazy="joined")


class Identity(Base):
    """An email, phone, social handle or external id by which a person is known.

    ``namespace`` says where the value lives: the network of a social handle
    (``twitter``), the source system of an external id (``hubspot``), empty for email and
    phone. Emails, handles and external ids belong to one person; phones may be shared
    (a household or switchboard), so they are not unique.
    """

    __tablename__ = "identities"
    __table_args__ = (
        Index(
            "uq_identities_kind_namespace_value",
            "kind",
            "namespace",
            "value",
            unique=True,
            sqlite_where=text("kind != 'phone'"),
            postgresql_where=text("kind != 'phone'"),
        ),
        Index("ix_identities_kind_value", "kind", "value"),
        Index(
            "uq_identities_one_primary",
            "person_id",
            "kind",
            "namespace",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    namespace: Mapped[str] = mapped_column(String(50), default="")
    value: Mapped[str] = mapped_column(String(320))
    original: Mapped[str] = mapped_column(String(320))
    label: Mapped[str | None] = mapped_column(String(50))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="identities")


class AttributeDefinition(Base):
    """A custom attribute the workspace declared, with its type and allowed choices."""

    __tablename__ = "attribute_definitions"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    choices: Mapped[list[str] | None] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentRecord(Base):
    """One grant or withdrawal; the latest record per channel and purpose is in force."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_person", "person_id", "channel", "purpose", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


_ONE_PARENT = "(person_id IS NOT NULL) <> (organization_id IS NOT NULL)"


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        CheckConstraint(_ONE_PARENT, name="one_parent"),
        # A deleted id is never handed out again (migration 0013_autoincrement_ids).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (CheckConstraint(_ONE_PARENT, name="one_parent"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Loaded on first use; a many-to-one by primary key reads the identity map first, so a
    # list of tasks costs one query per distinct creator, not one per task.
    creator: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="select")

    @property
    def created_by(self) -> str | None:
        """The name (else the email) of the user who created the task; None for the CLI,
        imports and the system."""
        creator = self.creator
        return (creator.name or creator.email) if creator is not None else None


class PersonSummary(Base):
    """The read model of one person: the parts of the 360 view that take many rows to
    assemble (identities, tags, consents, orders, the latest events, open tasks, notes)
    and the person's own columns, stored as the JSON the API serves, read by primary key.

    Writers never rebuild it: they set ``stale`` in their own transaction
    (``customers.summaries.mark_stale``); a stale or missing row is assembled afresh on
    read and rebuilt in the background (``tenure.summaries``). A summary also counts as
    stale when ``source_updated_at`` is not the person's ``updated_at``, so a write to
    the person's columns that forgot to mark it is still never served outdated. Owner,
    organization, scores, stage and risk are joined live by primary key, so the
    refreshes and renames that change them have nothing to keep current.
    """

    __tablename__ = "person_summaries"
    __table_args__ = (
        # The background rebuild finds the stale rows without reading the fresh ones.
        Index(
            "ix_person_summaries_stale",
            "person_id",
            postgresql_where=text("stale"),
            sqlite_where=text("stale"),
        ),
    )

    person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    # JSON text, served as stored: the person's own columns, identities and tags (what the
    # people list shows) and the rest of the 360's first screen; null until first built.
    card: Mapped[str | None] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(Text)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person's updated_at the card was built from.
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
