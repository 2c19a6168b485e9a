"""Email templates: sandboxed Jinja2, checked at save, versioned, rendered for a person.

The sender's entry point is :func:`render_template` (``session, version_id, person_id``,
keyword ``unsubscribe_url``) returning a :class:`RenderedEmail` (subject, html, text).
What a template may name is declared in :mod:`.fields` and documented in
docs/templates.md.
"""

from tenure.messaging.templating.context import UNSUBSCRIBE_PLACEHOLDER, build_context
from tenure.messaging.templating.render import (
    RenderedEmail,
    TemplateInvalid,
    render_template,
    validate_template,
)

__all__ = [
    "UNSUBSCRIBE_PLACEHOLDER",
    "RenderedEmail",
    "TemplateInvalid",
    "build_context",
    "render_template",
    "validate_template",
]
