"""Assembling a person's summary: the old per-request 360 assembly is the recompute."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tenure.profile.queries import person_360
from tenure.summaries.schemas import SummaryCard, SummaryDocument


@dataclass(frozen=True)
class Assembled:
    """JSON text, as stored and served."""

    card: str
    document: str


def assemble(session: Session, person_id: int) -> Assembled:
    """The person's summary from the source rows (``profile.queries.person_360``: about
    ten statements); raises NotFound for an unknown person."""
    view = person_360(session, person_id)
    return Assembled(
        card=SummaryCard.model_validate(view).model_dump_json(),
        document=SummaryDocument.model_validate(view).model_dump_json(),
    )
