"""Pydantic types at the edge of the messaging API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenure.validation import NoNul, StrictRowId


class MessageIn(BaseModel):
    """An already rendered email to one person."""

    model_config = ConfigDict(extra="forbid")

    person_id: StrictRowId
    subject: Annotated[str, StringConstraints(min_length=1, max_length=998), NoNul]
    text: Annotated[str, StringConstraints(max_length=1_000_000), NoNul] = ""
    html: Annotated[str, StringConstraints(max_length=1_000_000), NoNul] = ""
    purpose: Literal["marketing", "transactional"]
    template_version_id: StrictRowId | None = None
    campaign_key: Annotated[str, StringConstraints(max_length=200), NoNul] | None = None


class TemplateSendIn(BaseModel):
    """A template's current version, rendered for one person and queued."""

    model_config = ConfigDict(extra="forbid")

    person_id: StrictRowId
    campaign_key: Annotated[str, StringConstraints(max_length=200), NoNul] | None = None


class SuppressionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Annotated[str, StringConstraints(min_length=3, max_length=320), NoNul]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000), NoNul] = Field(
        description="Why no email may go there (shown on the suppression list)."
    )
