"""The filter language: what parses into which tree, and where errors point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenure.segments.parser import parse
from tenure.segments.syntax import (
    Aggregate,
    And,
    Boolean,
    Compare,
    Consent,
    Field,
    FilterError,
    Has,
    Moment,
    Not,
    Number,
    Or,
    Span,
    String,
)

BRIEF_EXAMPLE = (
    'attribute.plan = "pro" and tag = "vip" and count(order, last 90 days) >= 2 and '
    "sum(order.amount, last 365 days) > 100.00 and clv > 500 and "
    'rfm_segment in ("Champions", "Loyal") and consent(email, marketing) and '
    'organization.name ~ "acme" and last(email_opened) within 30 days and stage = "Active"'
)


def test_the_brief_example_parses_into_ten_conditions():
    tree = parse(BRIEF_EXAMPLE)
    assert isinstance(tree, And)
    assert len(tree.items) == 10
    first, _, count, total, _, rfm, consent, org, last, stage = tree.items
    assert first == Compare(Field(("attribute", "plan"), 0), "=", String("pro", 17), 15)
    assert isinstance(count, Compare) and isinstance(count.operand, Aggregate)
    assert count.operand.function == "count" and count.operand.events.type == "order"
    assert count.operand.window is not None and count.operand.window.span == Span(90, "days", 61)
    assert count.value == Number(Decimal(2), 73)
    assert isinstance(total, Compare) and isinstance(total.operand, Aggregate)
    assert total.operand.events.measure == "amount" and total.value == Number(
        Decimal("100.00"), 114
    )
    assert isinstance(rfm, Compare) and rfm.op == "in"
    assert rfm.value == (String("Champions", 155), String("Loyal", 168))
    assert consent == Consent("email", "marketing", 181)
    assert isinstance(org, Compare) and org.op == "~"
    assert isinstance(last, Compare) and last.op == "within" and last.value == Span(30, "days", 268)
    assert isinstance(stage, Compare) and stage.operand == Field(("stage",), 280)


def test_precedence_not_then_and_then_or():
    tree = parse('not tag = "a" and tag = "b" or tag = "c"')
    assert isinstance(tree, Or)
    left, right = tree.items
    assert isinstance(left, And) and isinstance(left.items[0], Not)
    assert isinstance(right, Compare)


def test_parentheses_group():
    tree = parse('tag = "a" and (tag = "b" or tag = "c")')
    assert isinstance(tree, And) and isinstance(tree.items[1], Or)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("has email", lambda t: t == Has(Field(("email",), 4), 0)),
        ("HAS phone AND NOT has email", lambda t: isinstance(t, And)),
        ("clv <> 5", lambda t: t.op == "!="),
        ('tag not in ("a", "b")', lambda t: t.op == "not in" and len(t.value) == 2),
        ("created_at >= 2024-01-31", lambda t: t.value.date_only),
        ("created_at < 2024-01-31T10:30:00+02:00", lambda t: t.value.value.hour == 8),
        ("attribute.flag = TRUE", lambda t: t.value == Boolean(True, 17)),
        ("attribute.delta > -1.5", lambda t: t.value.value == Decimal("-1.5")),
        ("last(any via email) within 2 weeks", lambda t: t.operand.events.channel == "email"),
        (
            'count("ticket.opened", since 2024-01-01) > 0',
            lambda t: t.operand.window.kind == "since",
        ),
        (
            "count(order, between 2024-01-01 and 2024-03-31) > 0",
            lambda t: t.operand.window.end.value.month == 3,
        ),
        ("attribute.renewal within next 1 month", lambda t: t.direction == "next"),
        ("tag = 'it\\'s'", lambda t: t.value.value == "it's"),
        ('attribute.last = "x"', lambda t: t.operand.path == ("attribute", "last")),
    ],
)
def test_valid_filters(text, check):
    assert check(parse(text))


@pytest.mark.parametrize(
    ("text", "position", "expected_fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("tag = ", 6, 'expected a value ("text"'),
        ('tag == "x"', 5, "found '='"),
        ('(tag = "x"', 10, "missing ')'"),
        ('tag = "x")', 9, "unbalanced ')'"),
        ("count(order, last 90 dayz) > 1", 21, "found 'dayz'"),
        ("count(order, last 0 days) > 1", 18, "from 1 to 100000"),
        ("clv > 5 or", 10, "found end of input"),
        ("tag = vip", 6, "text values are quoted"),
        # A word of the language where a value belongs is a missing value, not bare text.
        (
            "tag = and clv > 5",
            6,
            "true or false), found 'and'",
        ),
        ("tag = or", 6, 'expected a value ("text"'),
        ('"abc', 0, "unterminated string"),
        ("a = 2024-02-30", 4, "not a valid date"),
        ("clv 5", 4, "clv needs a comparison"),
        ('tag = "a" tag = "b"', 10, "expected one of 'and', 'or' or end of input"),
        ("sum(order.price) > 1", 10, "events have one measure"),
        ("count(order, 5) > 1", 13, "expected a window"),
        ("tag ~ 5", 6, "'~' takes text"),
        ("clv > 5 # comment", 8, "unexpected character '#'"),
        ("consent(email) ", 13, "consent takes (channel, purpose)"),
        ("count(order, between 2024-02-01 and 2024-01-01) > 0", 36, "before the first"),
        ("not", 3, "found end of input"),
        ("attribute. = 1", 11, "a name after 'attribute.'"),
        ("x in 1", 5, "in takes a list"),
    ],
)
def test_invalid_filters_report_position_and_expectation(text, position, expected_fragment):
    with pytest.raises(FilterError) as raised:
        parse(text)
    error = raised.value
    assert error.position == position, error.reason
    assert expected_fragment in error.reason
    assert error.field == "filter"
    assert error.reason.endswith(f"at position {position}")


def test_errors_list_what_would_have_been_accepted():
    with pytest.raises(FilterError) as raised:
        parse("clv")
    assert "'>='" in raised.value.expected and "'within'" in raised.value.expected


def test_nesting_and_length_are_bounded():
    with pytest.raises(FilterError, match="nested more than"):
        parse("(" * 100 + 'tag = "a"' + ")" * 100)
    with pytest.raises(FilterError, match="at most 4000 characters"):
        parse('tag = "' + "a" * 5000 + '"')
    # Forty levels are fine.
    assert isinstance(parse("(" * 39 + 'tag = "a"' + ")" * 39), Compare)


def test_dates_are_utc_and_date_only_is_marked():
    tree = parse("created_at > 2024-05-06")
    assert isinstance(tree, Compare) and isinstance(tree.value, Moment)
    assert tree.value.value.isoformat() == "2024-05-06T00:00:00+00:00"
    assert tree.value.date_only
