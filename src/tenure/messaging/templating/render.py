"""Checking and rendering: a template version and a person become subject, HTML and text.

``render_template(session, version_id, person_id)`` is what the sender calls; the preview
calls ``render_source`` with unsaved text. Both check the text first (the same check as at
save, so a version stored before a rule tightened is refused too), then render in the
sandbox, which refuses the escapes again on its own. The HTML is a full document with its
CSS inlined into ``style`` attributes (``css-inline``; many mail clients drop ``<style>``),
``@media`` rules kept in a ``<style>`` for the clients that honour them, and remote
stylesheets never fetched. The text part is generated from the inlined HTML.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any

import css_inline
from jinja2 import TemplateError
from jinja2.sandbox import SecurityError
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput, NotFound
from tenure.messaging.templating.checks import Problem, check_source, used_names
from tenure.messaging.templating.context import build_context, declared_keys, schema_for
from tenure.messaging.templating.fields import Field, context_fields
from tenure.messaging.templating.models import TemplateVersion
from tenure.messaging.templating.plaintext import html_to_text
from tenure.messaging.templating.sandbox import (
    compile_source,
    render_capped,
    to_template_value,
)

#: A subject longer than this is cut; mail clients show about 60 characters anyway.
MAX_SUBJECT_CHARS = 250
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str  # one line, plain text
    html: str  # a complete document, CSS inlined
    text: str  # the plain-text alternative


class TemplateInvalid(InvalidInput):
    """A template refused at save or render, with every problem and its line (HTTP 422)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        where = f"line {first.line}: " if first.line else ""
        super().__init__(first.field, where + first.message)
        self.problems = problems


def check_template(*, subject: str, html: str, schema: Mapping[str, Field]) -> list[Problem]:
    """Every problem of a subject and body, in order (empty when the template is good)."""
    problems: list[Problem] = []
    if not subject.strip():
        problems.append(Problem("subject", None, "is empty"))
    if not html.strip():
        problems.append(Problem("html", None, "is empty"))
    problems += check_source(subject, field="subject", root=schema)
    problems += check_source(html, field="html", root=schema)
    return problems


@lru_cache(maxsize=64)
def _checked(subject: str, html: str, keys: tuple[str, ...]) -> tuple[Problem, ...]:
    """check_template for a workspace whose declared attributes are ``keys`` (cached: a
    bulk send renders one version for everyone)."""
    return tuple(check_template(subject=subject, html=html, schema=context_fields(keys)))


def validate_template(session: Session, *, subject: str, html: str) -> None:
    """Refuse (TemplateInvalid) a template that would not render for this workspace."""
    problems = check_template(subject=subject, html=html, schema=schema_for(session))
    if problems:
        raise TemplateInvalid(problems)


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line an error was raised on (Jinja2 rewrites its frames so that the
    template's own frames carry the template's line numbers)."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _render_field(source: str, field: str, context: dict[str, Any]) -> str:
    try:
        return render_capped(compile_source(source, field), context)
    except RecursionError:
        # A macro calling itself without end: refused like an escape, not a 500.
        raise TemplateInvalid([Problem(field, None, "macros call each other too deeply")])
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as error:
        line = _template_line(sys.exc_info()[2])
        if isinstance(error, SecurityError):
            message = f"refused by the sandbox: {error}"
        elif "undefined" in type(error).__name__.lower():
            message = f"{error} for this person; guard optional values with {{% if ... %}}"
        else:
            message = f"{type(error).__name__}: {error}"
        raise TemplateInvalid([Problem(field, line, message)])


def render_source(
    *, subject: str, html: str, context: Mapping[str, Any], schema: Mapping[str, Field]
) -> RenderedEmail:
    """Check, then render ``subject`` and ``html`` with ``context`` (from build_context)."""
    problems = check_template(subject=subject, html=html, schema=schema)
    if problems:
        raise TemplateInvalid(problems)
    return render_unchecked(subject=subject, html=html, context=context)


def render_unchecked(*, subject: str, html: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render without the save-time check: the sandbox alone stands between the text and
    Python (what the tests use to show it does)."""
    values = {name: to_template_value(value) for name, value in context.items()}
    # A header line: no newlines (header injection), no runs of spaces.
    subject_text = _SPACES.sub(" ", _render_field(subject, "subject", values)).strip()
    body = _render_field(html, "html", values)
    if "<html" not in body.lower():
        body = (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>{body}</body></html>'
        )
    inlined = _INLINER.inline(body)
    return RenderedEmail(
        subject=subject_text[:MAX_SUBJECT_CHARS], html=inlined, text=html_to_text(inlined)
    )


def render_template(
    session: Session, version_id: int, person_id: int, *, unsubscribe_url: str | None = None
) -> RenderedEmail:
    """Render template version ``version_id`` for person ``person_id``.

    ``unsubscribe_url`` fills ``{{ unsubscribe_url }}`` (the sender's signed one-click
    link); without it a placeholder. Raises NotFound for an unknown version or person and
    TemplateInvalid (an InvalidInput, HTTP 422) naming the field and line when the
    template cannot render for this person (a refused construct, or an empty optional
    value the template did not guard).
    """
    version = session.get(TemplateVersion, version_id)
    if version is None:
        raise NotFound("template version", version_id)
    keys = tuple(declared_keys(session))
    context = build_context(
        session,
        person_id,
        unsubscribe_url=unsubscribe_url,
        names=used_names(version.subject, version.html),
        attribute_keys=keys,
    )
    problems = _checked(version.subject, version.html, keys)
    if problems:
        raise TemplateInvalid(list(problems))
    return render_unchecked(subject=version.subject, html=version.html, context=context)
