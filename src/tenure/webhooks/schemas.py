"""The API's input for webhook subscriptions (the actions check the rules themselves)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from tenure.validation import NoNul

EventTypeName = Annotated[str, StringConstraints(min_length=1, max_length=50), NoNul]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000), NoNul]
Description = Annotated[str, StringConstraints(max_length=1000), NoNul]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url = Field(description="http:// or https:// URL the events are POSTed to.")
    event_types: list[EventTypeName] = Field(
        min_length=1,
        max_length=100,
        description='Event types to send (order, visit, ...), or ["*"] for every type.',
    )
    description: Description = ""
    enabled: StrictBool = True


class SubscriptionUpdate(BaseModel):
    """Only the fields given change; ``enabled: true`` re-enables a disabled endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: list[EventTypeName] | None = Field(None, min_length=1, max_length=100)
    description: Description | None = None
    enabled: StrictBool | None = None
