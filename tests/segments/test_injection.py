"""SQL injection attempts in literals and in names are inert: values are bound parameters,
names are validated, and the SQL text never contains what the user wrote."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.customers.models import Organization, Person
from tenure.segments.compiler import compile_filter
from tenure.segments.syntax import FilterError

from .conftest import World

HOSTILE = [
    "'; DROP TABLE people; --",
    '" OR 1=1 --',
    "') OR ('1'='1",
    "x\\' OR 1=1 --",
    '$."plan") OR 1=1 --',
    "%",
    "_",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_literals_match_nothing_and_change_nothing(world: World, value: str):
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    people_before = world.session.scalar(select(func.count()).select_from(Person))
    for text in (
        f"attribute.plan = {quoted}",
        f"tag = {quoted} or tag in ({quoted}, {quoted})",
        f"organization.name ~ {quoted}",
        f"count({quoted}) > 0",
        f"consent({quoted}, {quoted})",
        f"email = {quoted} or segment = {quoted}",
    ):
        compiled = compile_filter(text, world.context())
        sql = str(compiled.person_ids().compile(dialect=world.session.get_bind().dialect))
        # The value travels as a parameter: the SQL text does not contain it.
        assert value not in sql or value in ("%", "_")
        assert world.session.connection().execute(compiled.person_ids()).all() == []
    assert world.session.scalar(select(func.count()).select_from(Person)) == people_before


def test_like_wildcards_in_a_value_are_literal(world: World):
    # dee has the tag "100%"; "%" and "_" match only themselves.
    assert world.members('tag ~ "%"') == {"dee"}
    assert world.members('tag ~ "0%"') == {"dee"}
    assert world.members('tag ~ "_"') == set()


def test_quotes_in_a_value_are_data(world: World):
    world.session.add(Organization(name='O\'Brien "&" Co'))
    world.session.flush()
    person = world.session.get(Person, world.ids["cy"])
    assert person is not None
    person.organization_id = world.session.scalar(
        select(Organization.id).where(Organization.name.like("O'Brien%"))
    )
    world.session.flush()
    assert world.members('organization.name = "O\'Brien \\"&\\" Co"') == {"cy"}
    assert world.members("organization.name = 'O\\'Brien \"&\" Co'") == {"cy"}


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('attribute.plan"; DROP TABLE people; -- = 1', 14),
        ("attribute.pl'an = 1", 12),
        ("attribute.plan) OR (1=1 = 1", 14),
        ("attribute.$.plan = 1", 10),
        ("attribute." + "k" * 65 + " = 1", 0),
        ("organization.attribute.a;b = 1", 24),
        ("count(order, last 1 days) > 1; DELETE FROM people", 29),
    ],
)
def test_hostile_names_are_refused_before_any_sql(world: World, text: str, position: int):
    with pytest.raises(FilterError) as raised:
        world.members(text)
    assert raised.value.position == position
    assert world.session.scalar(select(func.count()).select_from(Person)) == 6


def test_attribute_keys_travel_as_parameters(world: World):
    compiled = compile_filter('attribute.plan = "pro"', world.context())
    statement = compiled.person_ids().compile(dialect=world.session.get_bind().dialect)
    assert "plan" not in str(statement)
    assert any("plan" in str(value) for value in statement.params.values())
