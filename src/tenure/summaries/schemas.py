"""The shapes of the read model: what is stored (card, document) and what is served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tenure.customers.schemas import ConsentOut, IdentityOut, PersonColumns, PersonRefs
from tenure.profile.schemas import PersonProfile
from tenure.scores.schemas import PersonScoresOut
from tenure.timeline.schemas import EventOut, OpenTask, OrderSummary, RecentNote


class StageOut(BaseModel):
    key: str
    name: str
    entered_at: datetime
    overridden: bool = Field(description="Pinned by hand against the stage rules.")


class RiskOut(BaseModel):
    risk: float = Field(description="Retention risk, 0..1, as of the last refresh.")
    as_of: datetime
    value_at_risk_minor: int
    currency: str | None
    reasons: list[dict[str, Any]] = Field(description="Strongest first.")


class Person360(PersonProfile):
    """The 360 view: the person, their summary, and their scores, stage and risk."""

    scores: PersonScoresOut | None = None
    stage: StageOut | None = None
    risk: RiskOut | None = None


class SummaryCard(PersonColumns):
    """Stored: what a people list shows but the owner and organization: the person's own
    columns (as of ``PersonSummary.source_updated_at``), identities and tags."""

    identities: list[IdentityOut]
    tags: list[str]


class SummaryDocument(BaseModel):
    """Stored: the rest of the 360's first screen."""

    consents: list[ConsentOut]
    orders: OrderSummary
    recent_events: list[EventOut]
    open_tasks: list[OpenTask]
    notes: list[RecentNote]


class Live360(PersonRefs):
    """Joined live by primary key: owner and organization, and what the refreshes write."""

    scores: PersonScoresOut | None
    stage: StageOut | None
    risk: RiskOut | None
