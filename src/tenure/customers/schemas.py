"""Pydantic types at the edge of the customer repository (API bodies and responses)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenure.customers.models import AttributeType, ConsentStatus, EntityKind, IdentityKind
from tenure.validation import (
    TEXT_MAX_CHARS,
    LineText,
    LongText,
    NoNul,
    NoNulBefore,
    StrictRowId,
)

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul]
TagName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul
]
# Any int is taken here, so that one beyond 64 bits is refused by name when the attribute
# is checked (as a float it would have been stored rounded).
AttributeValue = Annotated[
    LineText | int | Annotated[float, Field(allow_inf_nan=False)] | bool | date | None,
    NoNulBefore,
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(Strict):
    kind: IdentityKind
    value: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320), NoNul
    ]
    namespace: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50), NoNul] = (
        Field("", description="Social network or source system; required for social and external.")
    )
    label: Annotated[str, StringConstraints(max_length=50), NoNul] | None = None
    primary: bool = False


class ConsentIn(Strict):
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,30}$")] = Field(
        description="email, sms, phone, post, push, whatsapp, ..."
    )
    purpose: Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,30}$")] = Field(
        description="marketing, service, research, ..."
    )
    status: ConsentStatus
    source: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul] = "api"
    recorded_at: datetime | None = None


class PersonCreate(Strict):
    first_name: ShortText = ""
    last_name: ShortText = ""
    job_title: ShortText | None = None
    organization_id: StrictRowId | None = None
    owner_id: StrictRowId | None = None
    identities: list[IdentityIn] = []
    tags: list[TagName] = []
    attributes: dict[str, AttributeValue] = {}
    consents: list[ConsentIn] = []


class PersonUpdate(Strict):
    """Fields left out stay as they are; ``identities`` and ``tags`` replace the whole set;
    ``attributes`` merges, and a null value removes an attribute; ``consents`` appends."""

    first_name: ShortText | None = None
    last_name: ShortText | None = None
    job_title: ShortText | None = None
    organization_id: StrictRowId | None = None
    owner_id: StrictRowId | None = None
    identities: list[IdentityIn] | None = None
    tags: list[TagName] | None = None
    attributes: dict[str, AttributeValue] | None = None
    consents: list[ConsentIn] | None = None


class OrganizationCreate(Strict):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
    ]
    domain: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), NoNul] | None
    ) = None
    owner_id: StrictRowId | None = None
    tags: list[TagName] = []
    attributes: dict[str, AttributeValue] = {}


class OrganizationUpdate(Strict):
    name: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
        ]
        | None
    ) = None
    domain: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), NoNul] | None
    ) = None
    owner_id: StrictRowId | None = None
    tags: list[TagName] | None = None
    attributes: dict[str, AttributeValue] | None = None


class AttributeDefinitionCreate(Strict):
    entity: EntityKind = EntityKind.person
    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: ShortText
    type: AttributeType
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]] | None = (
        None
    )


class NoteCreate(Strict):
    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX_CHARS),
        NoNul,
    ]


class TaskCreate(Strict):
    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
    ]
    description: LongText = ""
    assignee_id: StrictRowId | None = None
    due_at: datetime | None = None


class ActivityKind(enum.StrEnum):
    call = "call"
    meeting = "meeting"
    email = "email"


class ActivityDirection(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class ActivityCreate(Strict):
    """A call, meeting or email someone had with a customer, logged by hand."""

    kind: ActivityKind
    direction: ActivityDirection = ActivityDirection.outbound
    outcome: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ] = Field(description='In words: "connected", "left a voicemail", "agreed to a demo".')
    duration_minutes: int | None = Field(default=None, ge=0, le=1440)
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)] = ""
    occurred_at: datetime | None = Field(
        default=None,
        description="When it happened (with a timezone); the workspace's now if omitted.",
    )


class TaskUpdate(Strict):
    """Reassign, reschedule, rename, complete (done=true) or reopen (done=false) a task."""

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
        | None
    ) = None
    assignee_id: StrictRowId | None = None
    due_at: datetime | None = None
    done: bool | None = None


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    namespace: str
    value: str
    original: str
    label: str | None
    is_primary: bool


class ConsentOut(BaseModel):
    channel: str
    purpose: str
    status: str
    source: str
    recorded_at: datetime


class UserRef(BaseModel):
    id: int
    email: str
    name: str


class OrganizationRef(BaseModel):
    id: int
    name: str


class PersonColumns(BaseModel):
    """A person's own columns (the read model stores them in its card)."""

    id: int
    first_name: str
    last_name: str
    job_title: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PersonRefs(BaseModel):
    """A person's owner and organization: what the read model joins live (a rename of the
    owner or organization changes no summary)."""

    organization: OrganizationRef | None
    owner: UserRef | None


class PersonFields(PersonColumns, PersonRefs):
    """A person's own columns, owner and organization."""


class PersonOut(PersonFields):
    identities: list[IdentityOut]
    tags: list[str]


class OrganizationOut(BaseModel):
    id: int
    name: str
    domain: str | None
    owner_id: int | None
    tags: list[str]
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int | None
    organization_id: int | None
    author_id: int | None
    body: str
    created_at: datetime


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int | None
    organization_id: int | None
    title: str
    description: str
    assignee_id: int | None
    due_at: datetime | None
    done_at: datetime | None
    created_at: datetime
    created_by_id: int | None = Field(description="The user who created it (null: CLI, import)")
    created_by: str | None = Field(description="That user's name, else email")


class AttributeDefinitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    entity: str
    key: str
    label: str
    type: str
    choices: list[str] | None


SortField = Literal["created_at", "-created_at", "last_name", "-last_name", "id", "-id"]
