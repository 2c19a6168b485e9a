"""Assembling a person's summary: the old per-request 360 assembly is the recompute, the
definition ``build.build_many`` (the rebuild's batched path) is checked against."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.profile.queries import person_360
from tenure.summaries.build import Built
from tenure.summaries.schemas import SummaryCard, SummaryDocument


def assemble(session: Session, person_id: int) -> Built:
    """The person's summary from the source rows (``profile.queries.person_360``: about
    ten statements); raises NotFound for an unknown person."""
    return _stored(person_360(session, person_id))


def _stored(view: dict[str, Any]) -> Built:
    return Built(
        card=SummaryCard.model_validate(view).model_dump_json(),
        document=SummaryDocument.model_validate(view).model_dump_json(),
        source_updated_at=view["updated_at"],
    )
