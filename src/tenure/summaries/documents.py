"""Assembling a person's summary: the old per-request 360 assembly is the recompute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tenure.profile.queries import person_360
from tenure.summaries.build import build_many
from tenure.summaries.schemas import SummaryCard, SummaryDocument


@dataclass(frozen=True)
class Assembled:
    """JSON text, as stored and served."""

    card: str
    document: str


def assemble(session: Session, person_id: int) -> Assembled:
    """The person's summary from the source rows (``profile.queries.person_360``: about
    ten statements); raises NotFound for an unknown person."""
    return _stored(person_360(session, person_id))


def assemble_many(session: Session, person_ids: Sequence[int]) -> dict[int, Assembled]:
    """``assemble`` for many people in one statement per part (``build.build_many``, checked
    against the one-person assembly by the tests); unknown people are left out."""
    return {
        pid: Assembled(card=card, document=document)
        for pid, (card, document) in build_many(session, person_ids).items()
    }


def _stored(view: dict[str, Any]) -> Assembled:
    return Assembled(
        card=SummaryCard.model_validate(view).model_dump_json(),
        document=SummaryDocument.model_validate(view).model_dump_json(),
    )
