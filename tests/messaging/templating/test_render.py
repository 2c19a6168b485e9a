"""Rendering a saved template version for a real person: their name, last order, stage
and next best action appear; CSS is inlined; the text part is generated."""

from __future__ import annotations

import pytest

from tenure.errors import NotFound, PermissionDenied
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry, Role
from tenure.identity.permissions import Actor
from tenure.lifecycle.queries import person_stage
from tenure.messaging.templating import actions, queries
from tenure.messaging.templating.context import UNSUBSCRIBE_PLACEHOLDER, build_context
from tenure.messaging.templating.library import LIBRARY
from tenure.messaging.templating.models import TemplatePurpose
from tenure.messaging.templating.render import TemplateInvalid, render_template
from tenure.messaging.templating.sandbox import Money

from .customers import customer, grace_with_history

SUBJECT = "Hello {{ person.first_name }}"
HTML = """<html><head><style>.name { color: #c00000; } @media (max-width: 600px) {
.name { font-size: 20px; } }</style></head><body>
<p class="name">{{ person.name }}</p>
<p>Your order of {{ last_order.date|date }}: {{ last_order.total|money }}
{% for item in last_order.items %}{{ item.quantity }} x {{ item.category }}; {% endfor %}</p>
<p>Stage: {{ stage.name }}</p>
{% if next_best_action %}<p>Try {{ next_best_action.offer }}, since you liked
{{ next_best_action.because_bought }}.</p>{% endif %}
<a href="{{ unsubscribe_url }}">Unsubscribe</a>
</body></html>"""


def test_render_for_a_person_with_orders_stage_and_next_best_action(session):
    # Given Grace, her orders, her stage (placed by the pipeline) and a mined Books -> Music
    grace = grace_with_history(session)
    stage = person_stage(session, grace)
    assert stage is not None
    _, version = actions.create_template(
        session=session,
        actor=None,
        name="Test",
        purpose=TemplatePurpose.marketing,
        subject=SUBJECT,
        html=HTML,
    )

    # When version 1 is rendered for her
    email = render_template(session, version.id, grace, unsubscribe_url="https://x.test/u/7")

    # Then the subject is hers, her data appears, and the CSS is inlined
    assert email.subject == "Hello Grace"
    assert '<p class="name" style="color: #c00000;">Grace Hopper</p>' in email.html
    assert "$42.50" in email.html and "10 January 2025" in email.html
    assert "2 x Books; 1 x Books;" in email.html
    assert f"Stage: {stage['stage_name']}" in email.html
    assert "Try Music, since you liked\nBooks." in email.html
    assert "@media (max-width: 600px)" in email.html  # kept for clients that honour it
    assert ".name { color" not in email.html  # the plain rule is inlined, not kept
    # And the text part says the same, without markup
    assert email.text.startswith("Grace Hopper\n\nYour order of 10 January 2025: $42.50")
    assert f"Stage: {stage['stage_name']}" in email.text
    assert "Unsubscribe (https://x.test/u/7)" in email.text
    assert "<" not in email.text


def test_context_of_a_person(session):
    grace = grace_with_history(session)
    context = build_context(session, grace)
    assert context["person"]["name"] == "Grace Hopper"
    assert context["person"]["email"] == "grace@example.com"
    assert context["person"]["job_title"] == "Rear admiral"
    assert [o["total"] for o in context["orders"]] == [Money(4250, "USD"), Money(500, "USD")]
    assert context["order_count"] == 2
    assert context["revenue"] == Money(4750, "USD")
    assert context["next_best_action"]["offer"] == "Music"
    assert context["unsubscribe_url"] == UNSUBSCRIBE_PLACEHOLDER
    with pytest.raises(NotFound):
        build_context(session, 10**9)


def test_an_unguarded_optional_value_fails_at_render_naming_the_line(session):
    bare = customer(session, "New", "Person", "new@example.com")
    _, version = actions.create_template(
        session=session,
        actor=None,
        name="Unguarded",
        purpose=TemplatePurpose.transactional,
        subject="Hi",
        html="<p>Hi</p>\n<p>{{ last_order.total|money }}</p>",
    )
    with pytest.raises(TemplateInvalid) as refused:
        render_template(session, version.id, bare)
    problem = refused.value.problems[0]
    assert (problem.field, problem.line) == ("html", 2)
    assert "guard optional values" in problem.message


@pytest.mark.parametrize("entry", LIBRARY, ids=lambda e: e.key)
def test_each_library_template_renders_for_a_full_and_a_bare_customer(session, entry):
    grace = grace_with_history(session)
    bare = customer(session, "", "", "nobody@example.com")
    actions.ensure_library(session)
    template = next(t for t in queries.list_templates(session) if t["library_key"] == entry.key)
    full = render_template(session, template["version"]["id"], grace)
    empty = render_template(session, template["version"]["id"], bare)
    assert "Grace" in full.subject + full.text
    assert "Grace" not in empty.text and empty.text.strip()
    if entry.key == "win-back":
        assert "Picked for you: Music" in full.text
    if entry.key == "order-follow-up":
        assert "$42.50" in full.text
    if entry.purpose == TemplatePurpose.marketing:
        assert f"Unsubscribe ({UNSUBSCRIBE_PLACEHOLDER})" in full.text


def test_versions(session):
    # Given a template
    template, first = actions.create_template(
        session=session,
        actor=None,
        name="Versioned",
        purpose=TemplatePurpose.marketing,
        subject="One",
        html="<p>{{ person.name }}</p>",
    )
    # When its body is edited, then saved again unchanged, then only renamed
    actions.update_template(
        session=session, actor=None, template_id=template.id, html="<p>Hi {{ person.name }}</p>"
    )
    actions.update_template(
        session=session, actor=None, template_id=template.id, html="<p>Hi {{ person.name }}</p>"
    )
    actions.update_template(session=session, actor=None, template_id=template.id, name="Renamed")
    # Then there are two versions; version 1 keeps its text and its id
    versions = queries.list_versions(session, template.id)
    assert [(v["number"], v["subject"], v["html"]) for v in versions] == [
        (2, "One", "<p>Hi {{ person.name }}</p>"),
        (1, "One", "<p>{{ person.name }}</p>"),
    ]
    assert versions[1]["id"] == first.id
    assert queries.get_template(session, template.id)["version"]["number"] == 2
    # And restoring version 1 adds version 3 with its text
    restored = actions.restore_version(
        session=session, actor=None, template_id=template.id, number=1
    )
    assert (restored.number, restored.html) == (3, "<p>{{ person.name }}</p>")
    # And each change is audited
    changes = [
        e.changes
        for e in session.query(AuditEntry).filter_by(
            entity_type="message_template", entity_id=str(template.id)
        )
    ]
    assert {"version": {"before": 1, "after": 2}} in changes
    assert {"name": {"before": "Versioned", "after": "Renamed"}} in changes


def test_an_invalid_edit_adds_no_version(session):
    template, _ = actions.create_template(
        session=session,
        actor=None,
        name="Guarded",
        purpose=TemplatePurpose.marketing,
        subject="S",
        html="<p>ok</p>",
    )
    with pytest.raises(TemplateInvalid) as refused:
        actions.update_template(
            session=session, actor=None, template_id=template.id, html="<p>\n{{ person.nmae }}"
        )
    assert refused.value.field == "html"
    assert refused.value.reason == "line 2: unknown field person.nmae (did you mean name?)"
    session.rollback()
    assert len(queries.list_versions(session, template.id)) == 1


def test_editors_only(session):
    analyst = create_user(session=session, email="an@example.com", role=Role.analyst, password=None)
    sales = create_user(session=session, email="sa@example.com", role=Role.sales, password=None)
    for user in (analyst, sales):
        actor = Actor(user_id=user.id, email=user.email, role=Role(user.role))
        with pytest.raises(PermissionDenied):
            actions.create_template(
                session=session,
                actor=actor,
                name="No",
                purpose=TemplatePurpose.marketing,
                subject="S",
                html="<p>x</p>",
            )


def test_library_is_seeded_once(session):
    assert len(actions.ensure_library(session)) == len(LIBRARY)
    assert actions.ensure_library(session) == []
    names = [t["name"] for t in queries.list_templates(session)]
    assert names == sorted(e.name for e in LIBRARY)


def test_a_context_reads_only_what_the_template_names(session):
    grace = grace_with_history(session)
    context = build_context(session, grace, names={"person", "last_order"})
    assert set(context) == {"person", "unsubscribe_url", "today", "orders", "last_order"}
    assert context["last_order"]["total"] == Money(4250, "USD")
