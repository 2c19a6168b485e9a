"""Pydantic types at the edge of lifecycle: the stage model, overrides, evaluations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from tenure.validation import NoNul, StrictRowId

StageKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
RuleName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
]
Description = Annotated[str, StringConstraints(max_length=2000), NoNul]
Priority = Annotated[int, Field(ge=0, le=1_000_000)]
Position = Annotated[int, Field(ge=0, le=1000)]


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: StageKey = Field(description="Stable identifier used in rules, payloads and the API.")
    name: Name
    description: Description = ""
    in_funnel: bool = Field(
        True, description="Part of the forward funnel; false for stages customers drop to."
    )
    position: Position | None = Field(None, description="0 is first; default: last.")


class StagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    description: Description | None = None
    in_funnel: bool | None = None
    position: Position | None = None


class StageOut(BaseModel):
    key: str
    name: str
    description: str
    in_funnel: bool
    position: int


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: StageKey
    name: RuleName
    description: Description = ""
    priority: Priority = Field(description="Rules are tried from the lowest priority number.")
    condition: dict[str, Any] = Field(description="See docs/lifecycle.md for the language.")
    enabled: bool = True


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: StageKey | None = None
    name: RuleName | None = None
    description: Description | None = None
    priority: Priority | None = None
    condition: dict[str, Any] | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: int
    stage: str
    name: str
    description: str
    priority: int
    condition: dict[str, Any]
    enabled: bool


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incremental: bool = Field(description="Re-evaluate the people of every ingested batch.")


class ModelOut(BaseModel):
    stages: list[StageOut]
    rules: list[RuleOut]
    incremental: bool


class MetricOut(BaseModel):
    name: str
    kind: str
    description: str


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: StageKey
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul
    ]


class OverrideOut(BaseModel):
    reason: str | None
    by_id: int | None
    by: str | None
    at: datetime | None


class PersonStageOut(BaseModel):
    person_id: int
    stage: str | None
    stage_name: str | None
    entered_at: datetime | None
    rule_id: int | None
    rule: str | None
    override: OverrideOut | None


class HistoryItem(BaseModel):
    id: int
    from_: str | None = Field(alias="from")
    from_name: str | None
    to: str
    to_name: str
    changed_at: datetime
    source: str
    rule_id: int | None
    reason: str
    actor_id: int | None

    model_config = ConfigDict(populate_by_name=True)


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_ids: list[StrictRowId] = Field(min_length=1, max_length=10_000)
    as_of: AwareDatetime | None = None


class EvaluationOut(BaseModel):
    as_of: datetime
    people: int
    changes: int
    by_stage: dict[str, int]
