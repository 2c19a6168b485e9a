"""Writes: create a template, edit it (a new subject or body adds a version), archive,
restore an old version, and seed the library. Each checks ``TEMPLATE_EDITORS``, checks the
template text against the workspace's context schema (refused with every problem and its
line), audits, and commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.db.types import utcnow
from tenure.errors import Conflict, NotFound
from tenure.identity.audit import audit_changed, audit_created
from tenure.identity.permissions import TEMPLATE_EDITORS, Actor, authorize
from tenure.messaging.templating.library import seed_library
from tenure.messaging.templating.models import MessageTemplate, TemplatePurpose, TemplateVersion
from tenure.messaging.templating.queries import current_version, get_template_row
from tenure.messaging.templating.render import validate_template


def _check_name(session: Session, name: str, template_id: int | None = None) -> None:
    query = select(MessageTemplate.id).where(MessageTemplate.name == name)
    if template_id is not None:
        query = query.where(MessageTemplate.id != template_id)
    if session.scalar(query) is not None:
        raise Conflict(f"a template named {name!r} exists", field="name")


def ensure_library(session: Session) -> list[MessageTemplate]:
    """Seed the library templates this workspace lacks, committed (the list's first use)."""
    created = seed_library(session)
    if created and session.in_transaction():
        session.commit()  # on SQLite first_use_write committed already
    return created


def create_template(
    *,
    session: Session,
    actor: Actor | None,
    name: str,
    purpose: TemplatePurpose,
    subject: str,
    html: str,
    description: str = "",
) -> tuple[MessageTemplate, TemplateVersion]:
    """A new template with its version 1."""
    actor_id = authorize(actor, TEMPLATE_EDITORS)
    _check_name(session, name)
    validate_template(session, subject=subject, html=html)
    now = utcnow()
    template = MessageTemplate(
        name=name,
        purpose=TemplatePurpose(purpose).value,
        description=description,
        archived=False,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(template)
    session.flush()
    version = TemplateVersion(
        template_id=template.id,
        number=1,
        subject=subject,
        html=html,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(version)
    session.flush()
    audit_created(
        session=session,
        actor_id=actor_id,
        entity_type="message_template",
        entity_id=template.id,
        fields={"name": name, "purpose": template.purpose, "version": 1},
    )
    session.commit()
    return template, version


def _add_version(
    session: Session, template: MessageTemplate, *, subject: str, html: str, actor_id: int | None
) -> TemplateVersion:
    number = session.scalar(
        select(func.max(TemplateVersion.number)).where(TemplateVersion.template_id == template.id)
    )
    version = TemplateVersion(
        template_id=template.id,
        number=(number or 0) + 1,
        subject=subject,
        html=html,
        created_by_id=actor_id,
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return version


def update_template(
    *,
    session: Session,
    actor: Actor | None,
    template_id: int,
    name: str | None = None,
    purpose: TemplatePurpose | None = None,
    description: str | None = None,
    archived: bool | None = None,
    subject: str | None = None,
    html: str | None = None,
) -> MessageTemplate:
    """Change what is given. A subject or body that differs from the current version's adds
    a version (the other part carried over); saving the same text adds none."""
    actor_id = authorize(actor, TEMPLATE_EDITORS)
    template = get_template_row(session, template_id)
    current = current_version(session, template_id)
    before = {
        "name": template.name,
        "purpose": template.purpose,
        "description": template.description,
        "archived": template.archived,
        "version": current.number,
    }
    if name is not None and name != template.name:
        _check_name(session, name, template_id)
        template.name = name
    if purpose is not None:
        template.purpose = TemplatePurpose(purpose).value
    if description is not None:
        template.description = description
    if archived is not None:
        template.archived = archived
    new_subject = current.subject if subject is None else subject
    new_html = current.html if html is None else html
    number = current.number
    if (new_subject, new_html) != (current.subject, current.html):
        validate_template(session, subject=new_subject, html=new_html)
        number = _add_version(
            session, template, subject=new_subject, html=new_html, actor_id=actor_id
        ).number
    after = {
        "name": template.name,
        "purpose": template.purpose,
        "description": template.description,
        "archived": template.archived,
        "version": number,
    }
    if after != before:
        template.updated_at = utcnow()
    audit_changed(
        session=session,
        actor_id=actor_id,
        entity_type="message_template",
        entity_id=template.id,
        before=before,
        after=after,
    )
    session.commit()
    return template


def restore_version(
    *, session: Session, actor: Actor | None, template_id: int, number: int
) -> TemplateVersion:
    """Make an old version current again, as a new version with its text (history is never
    rewritten); checked again, since the schema may have changed since."""
    authorize(actor, TEMPLATE_EDITORS)
    old = session.scalars(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template_id, TemplateVersion.number == number
        )
    ).first()
    if old is None:
        get_template_row(session, template_id)  # 404 for the template first
        raise NotFound("template version", f"{template_id}/{number}")
    update_template(
        session=session, actor=actor, template_id=template_id, subject=old.subject, html=old.html
    )
    return current_version(session, template_id)
