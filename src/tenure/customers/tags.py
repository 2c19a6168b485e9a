"""Tags shared by people and organizations, created on first use."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.customers.models import Tag


def get_or_create_tags(session: Session, names: Iterable[str]) -> list[Tag]:
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not wanted:
        return []
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            tag = Tag(name=name)
            session.add(tag)
            existing[name] = tag
    session.flush()
    return [existing[name] for name in wanted]
