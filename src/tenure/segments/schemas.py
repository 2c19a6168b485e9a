"""Pydantic types of the segments API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenure.customers.schemas import PersonOut
from tenure.segments.parser import MAX_LENGTH
from tenure.validation import NoNul, StrictRowId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
FilterText = Annotated[str, StringConstraints(max_length=MAX_LENGTH), NoNul]
Description = Annotated[str, StringConstraints(max_length=2000), NoNul]
# One request adds or removes at most this many people (a pasted list, an import).
PersonIds = Annotated[list[StrictRowId], Field(max_length=10_000)]


class SegmentCreate(BaseModel):
    """A dynamic segment (``filter``) or a static list (``person_ids``, optional)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    kind: Literal["dynamic", "static"] = "dynamic"
    filter: FilterText | None = Field(
        None, description="The filter of a dynamic segment (see docs/segments.md)."
    )
    person_ids: PersonIds = Field(
        default_factory=list, description="The first members of a static list."
    )


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    filter: FilterText | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: FilterText


class MembersChange(BaseModel):
    """People to add to and remove from a static list."""

    model_config = ConfigDict(extra="forbid")

    add: PersonIds = Field(default_factory=list)
    remove: PersonIds = Field(default_factory=list)


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str
    kind: str
    filter: str | None
    builtin: bool
    builtin_key: str | None
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SegmentList(BaseModel):
    items: list[SegmentOut]


class PreviewOut(BaseModel):
    """How many people match now, and the first ``sample`` of them (by id)."""

    count: int
    as_of: datetime
    sample: list[PersonOut]


class MemberOut(PersonOut):
    entered_at: datetime


class ChangeOut(BaseModel):
    """The result of a refresh or a list change."""

    segment_id: int
    name: str
    members: int
    entered: int
    exited: int
    as_of: datetime


class RefreshAllOut(BaseModel):
    items: list[ChangeOut]
    failed: dict[str, str]


class SnapshotOut(BaseModel):
    taken_at: datetime
    members: int
    entered: int
    exited: int
