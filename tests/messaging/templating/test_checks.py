"""Templates are checked at save: syntax, every name against the context schema, and the
constructs that lead out of the sandbox; the sandbox refuses the escapes again at render."""

from __future__ import annotations

import pytest

from tenure.messaging.templating.checks import check_source
from tenure.messaging.templating.fields import context_fields
from tenure.messaging.templating.render import TemplateInvalid, render_unchecked

SCHEMA = context_fields(["plan"])

# Each escape, and what the save-time message names.
ESCAPES = [
    ("{{ person.__class__ }}", "person.__class__ is not allowed"),
    ("{{ ''.__class__.__mro__ }}", "''.__class__ is not allowed"),
    ("{{ cycler.__init__.__globals__ }}", "cycler.__init__ is not allowed"),
    ("{{ range.__self__ }}", "range.__self__ is not allowed"),
    ('{{ "{0.__class__}".format(person) }}', "'{0.__class__}'.format is not allowed"),
    ("{{ '{0.__class__}'.format_map(person) }}", ".format_map is not allowed"),
    ('{{ person["__class__"] }}', "person['__class__'] is not allowed"),
    ('{{ person|attr("__class__") }}', "the attr filter is not allowed"),
    ('{{ orders|map(attribute="__class__")|list }}', "__class__ is not allowed"),
    ("{% for o in orders %}{{ o.__dict__ }}{% endfor %}", "o.__dict__ is not allowed"),
    ("{% set x = person %}{{ x._private }}", "x._private is not allowed"),
]


def problems(source: str) -> list[str]:
    return [str(p) for p in check_source(source, field="html", root=SCHEMA)]


@pytest.mark.parametrize(("source", "message"), ESCAPES)
def test_each_sandbox_escape_is_refused_at_save_naming_it(source, message):
    # Given a body on its second line with an escape attempt; when checked
    found = problems("<p>Hello</p>\n" + source)
    # Then it is refused on line 2, naming the construct (reported once, not per link)
    assert found, source
    assert found[0].startswith("html: line 2: ")
    assert message in found[0]


@pytest.mark.parametrize(
    "source",
    [
        "{{ person.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range.__self__ }}",
        '{{ "{0.__class__}".format(person) }}',
        '{{ person["__class__"] }}',
        '{{ orders|map(attribute="__class__")|list }}',
    ],
)
def test_each_escape_is_refused_at_render_by_the_sandbox_itself(source):
    # Given the same escapes rendered without the save-time check (a version stored before
    # a rule existed, a row written by hand): the sandbox alone refuses them
    context = {"person": {"name": "Ada"}, "orders": [{"total": None}]}
    with pytest.raises(TemplateInvalid) as refused:
        render_unchecked(subject="s", html="<p>x</p>\n" + source, context=context)
    problem = refused.value.problems[0]
    assert problem.field == "html"
    # (the missing attribute of range: an error, never a value)
    assert "refused by the sandbox" in problem.message or "no attribute" in problem.message


def test_render_checks_again_before_rendering():
    from tenure.messaging.templating.render import render_source

    with pytest.raises(TemplateInvalid) as refused:
        render_source(
            subject="s", html="{{ person.__class__ }}", context={"person": {}}, schema=SCHEMA
        )
    assert "person.__class__ is not allowed" in refused.value.reason


def test_unknown_field_is_refused_naming_it_and_the_nearest_name():
    assert problems("Hi\n\n{{ person.nmae }}") == [
        "html: line 3: unknown field person.nmae (did you mean name?)"
    ]


def test_unknown_variable_filter_and_attribute_are_refused():
    assert problems("{{ persn.name }}") == [
        "html: line 1: unknown variable persn (did you mean person?)"
    ]
    assert problems("{{ person.name|shout }}") == [
        "html: line 1: unknown filter shout (did you mean sort or count?)"
    ]
    assert problems("{{ person.attributes.plam }}") == [
        "html: line 1: unknown custom attribute person.attributes.plam (did you mean plan?)"
    ]


def test_fields_are_followed_through_loops_sets_and_with():
    source = (
        "{% for order in orders %}{{ order.total|money }}"
        "{% for item in order.items %}{{ item.sku }} {{ loop.index }}{% endfor %}"
        "{{ order.itms }}{% endfor %}\n"
        "{% set offer = next_best_action %}{{ offer.ofer }}\n"
        "{% with s = scores %}{{ s.clv_12m|money }}{{ s.churn }}{% endwith %}"
    )
    assert problems(source) == [
        "html: line 1: unknown field order.itms (did you mean items?)",
        "html: line 2: unknown field offer.ofer (did you mean offer or offer_on?)",
        "html: line 3: unknown field s.churn (did you mean churn_risk?)",
    ]


def test_a_syntax_error_is_refused_with_its_line():
    found = check_source(
        "<p>\n{% if person.name %}\n<b>\n{{ person.name }", field="html", root=SCHEMA
    )
    assert len(found) == 1
    assert found[0].line == 4
    assert found[0].message == "unexpected '}'"


def test_includes_autoescape_off_and_safe_are_refused():
    assert "cannot include" in problems('{% include "other.html" %}')[0]
    assert "autoescape" in problems("{% autoescape false %}{{ person.name }}{% endautoescape %}")[0]
    assert "safe filter is not allowed" in problems("{{ person.name|safe }}")[0]


def test_a_good_template_passes():
    source = (
        "{% if last_order %}{{ last_order.date|date }} {{ last_order.date.year }}"
        "{{ last_order.total.amount }}{% endif %}{{ person.name.upper() }}"
        "{{ person.attributes.plan }}{{ person.attributes['plan'] }}{{ orders[0].id }}"
        "{% macro line(x) %}{{ x.anything }}{% endmacro %}{{ line(person) }}"
        "{{ popular_items|join(', ') }}{{ '%s!'|format(person.name) }}"
    )
    assert problems(source) == []


def test_the_subject_is_plain_text_on_one_line():
    rendered = render_unchecked(
        subject="Hi {{ person.name }}\r\nBcc: x@evil.test",
        html="<p>{{ person.name }}</p>",
        context={"person": {"name": "A & B <c>"}},
    )
    # Not HTML-escaped, and no header can be smuggled in by a newline
    assert rendered.subject == "Hi A & B <c> Bcc: x@evil.test"
    assert "A &amp; B &lt;c&gt;" in rendered.html


def test_bounded_work():
    with pytest.raises(TemplateInvalid, match="repeating"):
        render_unchecked(subject="s", html="{{ 'x' * 100000000 }}", context={})
    with pytest.raises(TemplateInvalid, match="exponent"):
        render_unchecked(subject="s", html="{{ 9 ** 999999 }}", context={})
    with pytest.raises(TemplateInvalid, match="longer than"):
        render_unchecked(
            subject="s",
            html="{% for i in range(200) %}{{ 'x' * 9999 }}{% endfor %}",
            context={},
        )


def test_loops_have_a_budget_even_without_output():
    # Three nested loops of 100 would be 1,000,000 iterations printing nothing
    loops = (
        "{% for a in range(100) %}{% for b in range(100) %}{% for c in range(100) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(TemplateInvalid, match="loops run more than 100,000 times"):
        render_unchecked(subject="s", html=loops, context={})
    with pytest.raises(TemplateInvalid, match="range"):
        render_unchecked(subject="s", html="{{ range(10**6)|sum }}", context={})
    # A normal loop, with loop.* and else, is unaffected
    rendered = render_unchecked(
        subject="s",
        html="{% for x in range(3) %}{{ loop.index }}{% if loop.last %}.{% endif %}"
        "{% else %}none{% endfor %}{% for y in [] %}{% else %}empty{% endfor %}",
        context={},
    )
    assert "123.empty" in rendered.html


def test_endless_macros_and_deep_nesting_are_refused_not_a_crash():
    with pytest.raises(TemplateInvalid, match="too deeply"):
        render_unchecked(
            subject="s", html="{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", context={}
        )
    deep = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    assert problems(deep) == ["html: the template is nested too deeply"]


def test_used_names_are_the_top_level_variables_read():
    from tenure.messaging.templating.checks import used_names

    assert used_names(
        "Hi {{ person.first_name }}",
        "{% for o in orders %}{{ o.total }}{% endfor %}{% set x = stage %}{{ x.name }}",
    ) == {"person", "orders", "stage"}
