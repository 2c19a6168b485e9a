"""Reads of the templates: the list, one template with its current version, its history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.errors import NotFound
from tenure.identity.models import User
from tenure.messaging.templating.models import MessageTemplate, TemplateVersion


def get_template_row(session: Session, template_id: int) -> MessageTemplate:
    template = session.get(MessageTemplate, template_id)
    if template is None:
        raise NotFound("template", template_id)
    return template


def current_version(session: Session, template_id: int) -> TemplateVersion:
    """The template's highest-numbered version (every template has at least one)."""
    version = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.number.desc())
        .limit(1)
    ).first()
    if version is None:
        raise NotFound("template", template_id)
    return version


def _authors(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(wanted)))
    return {row.id: row.name or row.email for row in rows}


def version_dict(version: TemplateVersion, authors: dict[int, str]) -> dict[str, Any]:
    return {
        "id": version.id,
        "template_id": version.template_id,
        "number": version.number,
        "subject": version.subject,
        "html": version.html,
        "created_by": authors.get(version.created_by_id) if version.created_by_id else None,
        "created_at": version.created_at,
    }


def template_dict(
    template: MessageTemplate, version: TemplateVersion, authors: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "purpose": template.purpose,
        "description": template.description,
        "archived": template.archived,
        "library_key": template.library_key,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
        "version": version_dict(version, authors),
    }


def get_template(session: Session, template_id: int) -> dict[str, Any]:
    template = get_template_row(session, template_id)
    version = current_version(session, template_id)
    return template_dict(template, version, _authors(session, {version.created_by_id}))


def list_templates(session: Session, *, archived: bool = False) -> list[dict[str, Any]]:
    """Templates by name with their current version (the archived ones when asked)."""
    newest = (
        select(TemplateVersion.template_id, func.max(TemplateVersion.number).label("number"))
        .group_by(TemplateVersion.template_id)
        .subquery()
    )
    rows = session.execute(
        select(MessageTemplate, TemplateVersion)
        .join(newest, newest.c.template_id == MessageTemplate.id)
        .join(
            TemplateVersion,
            (TemplateVersion.template_id == newest.c.template_id)
            & (TemplateVersion.number == newest.c.number),
        )
        .where(MessageTemplate.archived.is_(archived))
        .order_by(MessageTemplate.name, MessageTemplate.id)
    ).all()
    authors = _authors(session, {version.created_by_id for _, version in rows})
    return [template_dict(template, version, authors) for template, version in rows]


def list_versions(session: Session, template_id: int) -> list[dict[str, Any]]:
    """Every version of a template, newest first."""
    get_template_row(session, template_id)
    versions = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template_id)
        .order_by(TemplateVersion.number.desc())
    ).all()
    authors = _authors(session, {v.created_by_id for v in versions})
    return [version_dict(v, authors) for v in versions]


def get_version(session: Session, template_id: int, number: int) -> dict[str, Any]:
    version = session.scalars(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template_id, TemplateVersion.number == number
        )
    ).first()
    if version is None:
        raise NotFound("template version", f"{template_id}/{number}")
    return version_dict(version, _authors(session, {version.created_by_id}))
