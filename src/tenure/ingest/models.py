"""Tables of imports: the import record, its rejected rows, and links to what it touched.

An import is resumable: ``rows_done`` counts the source records whose chunk has been
committed, and every chunk advances it with a compare-and-set in the chunk's own
transaction, so a run killed at any point resumes exactly after the last committed chunk
and two processes can never both apply the same chunk.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenure.customers.models import Person
from tenure.db.base import Base
from tenure.db.types import Id, JsonDoc, UTCDateTime, utcnow


class ImportFormat(enum.StrEnum):
    csv = "csv"
    vcard = "vcard"
    jsonl = "jsonl"
    email = "email"


class ImportStatus(enum.StrEnum):
    draft = "draft"  # uploaded through the web page, mapping not yet confirmed
    running = "running"  # started; a run that died stays here until resumed
    completed = "completed"
    failed = "failed"


class IssueKind(enum.StrEnum):
    rejected = "rejected"
    duplicate = "duplicate"  # created, but probably the same as an existing person


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_file_sha256_format", "file_sha256", "format"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(20))
    # "person" or "organization": what one source record becomes.
    entity: Mapped[str] = mapped_column(String(20), default="person")
    preset: Mapped[str | None] = mapped_column(String(50))
    # {source column: target} for CSV; empty for formats with a fixed shape.
    mapping: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=ImportStatus.running.value)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # How many times a later run picked this import up after an earlier one stopped.
    resumed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ImportFile(Base):
    """The uploaded bytes of a web import, kept until it completes.

    In the database rather than on local disk so that any web worker, on any machine,
    can run the import the user confirmed on another one.
    """

    __tablename__ = "import_files"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ImportIssue(Base):
    """A rejected row (line, column, reason) or a probable duplicate it created."""

    __tablename__ = "import_issues"
    __table_args__ = (Index("ix_import_issues_import_line", "import_id", "line"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    column: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    # For a probable duplicate: the existing person it resembles (no foreign key: the
    # report outlives merges and deletions).
    person_id: Mapped[int | None] = mapped_column(BigInteger)


# Every import that created or updated a person, kept for all of them (not only the last).
people_imports = Table(
    "people_imports",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("import_id", ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("action", String(10), nullable=False),
)

organizations_imports = Table(
    "organizations_imports",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("import_id", ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("action", String(10), nullable=False),
)


class OrganizationExternalId(Base):
    """The id of an organization in a source system (HubSpot company, Salesforce account).

    People carry external ids as identities; organizations have no identity table, and an
    import needs these both to update companies on re-import and to link contacts to their
    account (Salesforce ``AccountId``).
    """

    __tablename__ = "organization_external_ids"

    namespace: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )


# Probable duplicates are people with the same name in the same organization; without this
# index that check scans every person of the organization for each imported row.
Index(
    "ix_people_organization_id_last_name",
    Person.__table__.c.organization_id,
    Person.__table__.c.last_name,
)
