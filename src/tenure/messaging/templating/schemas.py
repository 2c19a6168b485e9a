"""Pydantic types of the templates API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tenure.messaging.templating.models import TemplatePurpose
from tenure.validation import NoNul, RowId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Description = Annotated[str, StringConstraints(max_length=2000), NoNul]
#: A subject template (the rendered line is cut at 250 characters).
Subject = Annotated[str, StringConstraints(min_length=1, max_length=1000), NoNul]
#: An HTML body template: a long newsletter is ~100 kB.
Html = Annotated[str, StringConstraints(min_length=1, max_length=200_000), NoNul]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    purpose: TemplatePurpose
    description: Description = ""
    subject: Subject
    html: Html


class TemplateUpdate(BaseModel):
    """Change what is given; a new subject or body adds a version."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    purpose: TemplatePurpose | None = None
    description: Description | None = None
    archived: bool | None = None
    subject: Subject | None = None
    html: Html | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Subject
    html: Html
    person_id: RowId = Field(description="Whose data the preview is rendered with.")


class RenderedOut(BaseModel):
    subject: str
    html: str
    text: str


class VersionOut(BaseModel):
    id: int
    template_id: int
    number: int
    subject: str
    html: str
    created_by: str | None
    created_at: datetime


class TemplateOut(BaseModel):
    id: int
    name: str
    purpose: TemplatePurpose
    description: str
    archived: bool
    library_key: str | None
    created_at: datetime
    updated_at: datetime
    version: VersionOut = Field(description="The current version (the highest number).")


class TemplateList(BaseModel):
    items: list[TemplateOut]


class VersionList(BaseModel):
    items: list[VersionOut]


class FieldOut(BaseModel):
    name: str
    kind: str
    doc: str


class FieldList(BaseModel):
    items: list[FieldOut]
