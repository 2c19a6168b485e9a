"""Pydantic types of the event API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from tenure.timeline.models import MONEY_EVENT_TYPES

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Annotated[str, StringConstraints(max_length=100)] | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    quantity: int = Field(1, ge=1, le=1_000_000)
    unit_price_minor: int = Field(ge=0, description="Unit price in minor units (cents).")


class EventIn(BaseModel):
    """One event. Money is integer minor units (cents) plus an ISO 4217 currency."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{0,49}$")] = Field(
        description="order, refund, visit, email_opened, call, ticket_opened, ... (free list)"
    )
    occurred_at: AwareDatetime
    source: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "api"
    client_event_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Your id for the event: repeats with the same source are ignored."
    )
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")] | None = None
    person_id: int | None = None
    email: str | None = Field(
        None, description="Identify the person by email instead; unknown emails create a person."
    )
    amount_minor: int | None = None
    currency: Currency | None = None
    # default_factory: a literal {} default is deep-copied per instance (measured 20%
    # of batch validation time).
    items: list[LineItem] = Field(default_factory=list)
    payload: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> EventIn:
        if (self.person_id is None) == (self.email is None):
            raise ValueError("give exactly one of person_id or email")
        if self.type in MONEY_EVENT_TYPES:
            if self.amount_minor is None and self.items:
                self.amount_minor = sum(i.quantity * i.unit_price_minor for i in self.items)
            if self.amount_minor is None:
                raise ValueError(f"{self.type} events need amount_minor (or items)")
            if self.amount_minor < 0:
                raise ValueError("amount_minor must not be negative (a refund is its own type)")
            if self.currency is None:
                raise ValueError(f"{self.type} events need a currency")
        return self


class EventOut(BaseModel):
    id: int
    person_id: int
    type: str
    occurred_at: datetime
    channel: str | None
    source: str
    client_event_id: str | None
    amount_minor: int | None
    currency: str | None
    items: list[LineItem]
    payload: dict[str, Any]


class ItemProblem(BaseModel):
    field: str
    reason: str


class RejectedEvent(BaseModel):
    index: int
    client_event_id: str | None
    errors: list[ItemProblem]


class DuplicateEvent(BaseModel):
    index: int
    client_event_id: str
    event_id: int | None = Field(description="The stored event it repeats (null: same batch).")


class IngestResult(BaseModel):
    """What happened to every item: stored, duplicate or rejected, never silently dropped."""

    received: int
    stored: int
    duplicates: list[DuplicateEvent]
    rejected: list[RejectedEvent]
    stored_ids: list[int] = Field(description="Ids of the stored events, in batch order.")
    person_ids: list[int] = Field(
        default_factory=list, description="The people the stored events belong to, sorted."
    )
    # The types of the stored events, for the event pipeline's reactions (not serialized).
    _types: frozenset[str] = PrivateAttr(default_factory=frozenset)


class Money(BaseModel):
    currency: str | None
    amount_minor: int


class OrderSummary(BaseModel):
    order_count: int
    revenue: list[Money] = Field(description="Orders minus refunds, per currency.")
    first_order_at: datetime | None
    last_order_at: datetime | None


class OpenTask(BaseModel):
    id: int
    title: str
    due_at: datetime | None
    assignee_id: int | None


class RecentNote(BaseModel):
    id: int
    body: str
    author_id: int | None
    created_at: datetime


class TimelinePage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None
