"""The declarative base every table derives from, with stable constraint names."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def complete_metadata() -> MetaData:
    """Every table of every capability, for code that reflects on the whole schema (the
    merge finds every column referencing people; the segment filter finds where stages live).

    The tables are registered by importing ``tenure.all_models``, a composition root at the
    top of the package: the entry points (web app, CLI, migrations, benchmarks) import it; a
    capability may not (that import would point upward), so it asks here and fails loudly
    rather than silently seeing half the schema.
    """
    if not Base.metadata.info.get("complete"):
        raise RuntimeError("import tenure.all_models at the entry point: the schema is partial")
    return Base.metadata
