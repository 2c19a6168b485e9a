"""Rule evaluation in SQL: one statement places a whole range (or list) of people.

The rules become one ``CASE WHEN <rule 1> THEN 1 WHEN <rule 2> THEN 2 ... END`` over
``people`` LEFT JOINed to ``person_scores`` and to the per-person aggregates of
:mod:`tenure.lifecycle.aggregates` (``GROUP BY person_id`` over the events in scope).
Only the aggregates the rules read are joined. The statement returns only the people
whose matched rule points to a stage other than their current one, and skips people
whose stage is overridden, so unchanged people cost nothing in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Select,
    and_,
    case,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from tenure.customers.models import Person, Tag, person_tags
from tenure.db.dialect import days_between, json_kind, json_number, json_text
from tenure.lifecycle.aggregates import (
    ACTIVITY_COLUMNS,
    SOURCES,
    Compiler,
    ParamValue,
    Scope,
)
from tenure.lifecycle.conditions import (
    METRICS,
    AllOf,
    AnyOf,
    AttributeRef,
    Compare,
    Condition,
    EventCount,
    HasTag,
    MetricRef,
    Not,
    walk,
)
from tenure.lifecycle.models import LifecycleRule, PersonStage
from tenure.scores.models import PersonScore


@dataclass(frozen=True)
class RuleSpec:
    id: int
    stage_id: int
    condition: Condition


#: Built statements by (dialect, scope kind, rules). Building one costs ~50 ms of Python
#: (measured: 57 ms a call for the default rules), more than evaluating a batch of 100
#: people, so the ingestion hook reuses them; a rule edit changes the key.
_STATEMENTS: dict[tuple[Any, ...], tuple[Select[Any], dict[str, ParamValue]]] = {}
_MAX_STATEMENTS = 32


def changed_people(
    connection: Connection, rules: Sequence[RuleSpec], *, as_of: datetime, scope: Scope
) -> list[Any]:
    """Rows (person_id, rule_id, to_stage_id, from_stage_id) of people whose stage changes."""
    if not rules:
        return []
    dialect = connection.dialect.name
    key = (dialect, scope.kind, tuple((r.id, r.stage_id, r.condition) for r in rules))
    built = _STATEMENTS.get(key)
    if built is None:
        if len(_STATEMENTS) >= _MAX_STATEMENTS:
            _STATEMENTS.clear()
        built = _STATEMENTS[key] = _build(dialect, rules, scope)
    statement, params = built
    values = {name: value(as_of, connection) for name, value in params.items()}
    if dialect == "postgresql":
        # psycopg prepares a statement from its fifth execution, and PostgreSQL may then
        # switch to a generic plan that cannot see the scope's id range: measured ~45 s
        # per 50,000-person chunk against 5 s planned with the values. JIT compiled ~150
        # functions (0.3 s) for a statement run once per chunk or ingested batch.
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        connection.exec_driver_sql("SET LOCAL jit = off")
    return list(connection.execute(statement, {**values, **scope.params(dialect)}).all())


def _build(
    dialect: str, rules: Sequence[RuleSpec], scope: Scope
) -> tuple[Select[Any], dict[str, ParamValue]]:
    compiler = Compiler(dialect, scope)
    # Collect every aggregate the rules read first: the subqueries are built once, with
    # one count column per distinct events leaf, before expressions refer to them.
    for rule in rules:
        for node in walk(rule.condition):
            if isinstance(node, Compare):
                _require(compiler, node.subject)
    for source in sorted(compiler.needs - {"scores"}):
        compiler.joins[source] = SOURCES[source](compiler)
    conditions = [(_expression(compiler, rule.condition), rule.id) for rule in rules]
    people = Person.__table__
    matched = case(*conditions, else_=None).label("rule_id")
    base = select(people.c.id.label("person_id"), matched).select_from(_joined(compiler, people))
    evaluated = base.where(compiler.in_scope(people.c.id)).subquery("evaluated")
    rules_table = LifecycleRule.__table__
    current = PersonStage.__table__
    target = rules_table.c.stage_id
    query = (
        select(
            evaluated.c.person_id,
            evaluated.c.rule_id,
            target.label("to_stage_id"),
            current.c.stage_id.label("from_stage_id"),
        )
        .join(rules_table, rules_table.c.id == evaluated.c.rule_id)
        .outerjoin(current, current.c.person_id == evaluated.c.person_id)
        .where(
            or_(
                current.c.person_id.is_(None),
                and_(current.c.overridden == false(), current.c.stage_id != target),
            )
        )
    )
    return query, compiler.params


def _joined(compiler: Compiler, people: Any) -> Any:
    joined = people
    for subquery in compiler.joins.values():
        joined = joined.outerjoin(subquery, subquery.c.person_id == people.c.id)
    if "scores" in compiler.needs:
        scores = PersonScore.__table__
        # The scope on person_scores too: PostgreSQL otherwise hashed all of it for each
        # chunk (a sequential scan of 860,000 rows, 0.8 s measured) instead of its range.
        on = and_(scores.c.person_id == people.c.id, compiler.in_scope(scores.c.person_id))
        joined = joined.outerjoin(scores, on)
    return joined


def _require(compiler: Compiler, subject: Any) -> None:
    if isinstance(subject, EventCount):
        compiler.event_leaves.setdefault(subject, f"ev{len(compiler.event_leaves)}")
        compiler.needs.add("activity")
    elif isinstance(subject, MetricRef):
        source = METRICS[subject.name].source
        if source != "person":
            compiler.needs.add("scores" if source == "clv_cut" else source)
        compiler.activity_columns.update(ACTIVITY_COLUMNS.get(subject.name, ()))


def _expression(compiler: Compiler, condition: Condition) -> ColumnElement[bool]:
    if isinstance(condition, AllOf):
        if not condition.items:
            return true()
        return and_(*(_expression(compiler, item) for item in condition.items))
    if isinstance(condition, AnyOf):
        if not condition.items:
            return false()
        return or_(*(_expression(compiler, item) for item in condition.items))
    if isinstance(condition, Not):
        return not_(_expression(compiler, condition.item))
    if isinstance(condition, HasTag):
        people = Person.__table__
        tagged = (
            select(person_tags.c.person_id)
            .join(Tag, Tag.id == person_tags.c.tag_id)
            .where(Tag.name == condition.name, person_tags.c.person_id == people.c.id)
        )
        return tagged.exists()
    # Two-valued logic: a comparison with NULL (missing value) is false, so NOT of it holds.
    return func.coalesce(_leaf(compiler, condition), false())


def _leaf(compiler: Compiler, leaf: Compare) -> ColumnElement[bool]:
    subject = leaf.subject
    if isinstance(subject, MetricRef) and subject.name == "score.clv_percentile":
        return _clv_percentile(compiler, leaf)
    if isinstance(subject, AttributeRef):
        return _attribute(compiler, subject.key, leaf)
    value = _subject_value(compiler, subject)
    return _apply(value, leaf.op, leaf.value)


def _apply(value: Any, op: str, operand: Any) -> ColumnElement[bool]:
    if op == "set":
        return value.is_not(None)
    if op == "unset":
        return value.is_(None)
    if op == "in":
        return value.in_(list(operand))
    if op == "not_in":
        return value.not_in(list(operand))
    comparisons: dict[str, Callable[[Any, Any], Any]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    result: ColumnElement[bool] = comparisons[op](value, operand)
    return result


def _attribute(compiler: Compiler, key: str, leaf: Compare) -> ColumnElement[bool]:
    column = Person.__table__.c.attributes
    dialect = compiler.dialect
    kind = json_kind(dialect, column, key)
    if leaf.op in ("set", "unset"):
        present = and_(kind.is_not(None), kind != "null")
        return present if leaf.op == "set" else not_(present)
    sample = leaf.value[0] if leaf.op in ("in", "not_in") else leaf.value
    if isinstance(sample, bool):
        text = json_text(dialect, column, key)
        operand = (
            [str(v).lower() for v in leaf.value]
            if leaf.op in ("in", "not_in")
            else str(leaf.value).lower()
        )
        return and_(kind == "boolean", _apply(text, leaf.op, operand))
    if isinstance(sample, str):
        return and_(kind == "string", _apply(json_text(dialect, column, key), leaf.op, leaf.value))
    return _apply(json_number(dialect, column, key), leaf.op, leaf.value)


def _subject_value(compiler: Compiler, subject: Any) -> ColumnElement[Any]:
    if isinstance(subject, EventCount):
        activity = compiler.joins["activity"]
        return func.coalesce(activity.c[compiler.event_leaves[subject]], 0)
    name = subject.name
    if name.startswith("score."):
        return PersonScore.__table__.c[name.removeprefix("score.")]
    if name == "days_since_created":
        return compiler.days_ago(Person.__table__.c.created_at)
    if name == "nps_last_score":
        return compiler.joins["nps"].c.score
    if name == "new_categories_180d":
        return func.coalesce(compiler.joins["categories"].c.new_categories, 0)
    return _activity_metric(compiler, name)


def _activity_metric(compiler: Compiler, name: str) -> ColumnElement[Any]:
    a = compiler.joins["activity"].c
    counts = ("orders", "orders_365d", "refunds", "engagements", "engagements_90d")
    if name in counts:
        return func.coalesce(a[name], 0)
    if name == "referrals_converted":
        return func.coalesce(a.referrals, 0)
    if name == "revenue_minor":
        return func.coalesce(a.order_amount, 0) - func.coalesce(a.refund_amount, 0)
    if name == "days_since_first_order":
        return compiler.days_ago(a.first_order_at)
    if name == "days_since_last_order":
        return compiler.days_ago(a.last_order_at)
    if name == "days_since_last_activity":
        return compiler.days_ago(a.last_activity_at)
    if name == "upsell_ratio_180d":
        # Earlier = all orders minus recent ones: two CASE columns fewer per event row.
        recent_amount = func.coalesce(a.recent_amount, 0)
        earlier_orders = a.orders - a.recent_orders
        earlier_amount = func.coalesce(a.order_amount, 0) - recent_amount
        recent = recent_amount * 1.0 / a.recent_orders
        before = earlier_amount * 1.0 / earlier_orders
        usable = and_(a.recent_orders > 0, earlier_orders > 0, earlier_amount > 0)
        return case((usable, recent / before))
    # Only the metrics that list first_order_at in ACTIVITY_COLUMNS may read it: the
    # activity subquery has just the columns the remaining rules asked for (issue 9).
    if name in ("usual_order_interval_days", "overdue_ratio"):
        span = days_between(compiler.dialect, a.last_order_at, a.first_order_at)
        interval = case((and_(a.orders > 1, span > 0), span / (a.orders - 1)))
        if name == "usual_order_interval_days":
            return interval
        return compiler.days_ago(a.last_order_at) / interval
    raise AssertionError(f"metric {name} has no expression")


def _clv_percentile(compiler: Compiler, leaf: Compare) -> ColumnElement[bool]:
    """``clv_percentile OP q`` as ``clv_12m_minor`` against the value at that rank.

    The percentile rank of the i-th smallest of n values is i / (n - 1) (SQL's
    ``percent_rank``), so ``rank >= q`` holds from index ceil(q (n - 1)) and ``rank > q``
    from floor(q (n - 1)) + 1. The cut is read through the index on clv_12m_minor
    (``ORDER BY ... LIMIT 1 OFFSET k``) instead of ranking every customer.
    """
    clv = PersonScore.__table__.c.clv_12m_minor
    strict = leaf.op in (">", "<=")
    q = float(leaf.value)
    name = f"clv_cut_{'gt' if strict else 'ge'}_{round(q * 1_000_000)}"
    # Read at each execution (two index reads): scores change with every refresh.
    cut = compiler.param(name, lambda _as_of, connection: _clv_cut(connection, q, strict), Float)
    at_or_above = clv >= cut
    if leaf.op in (">=", ">"):
        return at_or_above
    return and_(clv.is_not(None), not_(at_or_above))


#: A cut above every CLV (bigint minor units): "rank > 1" holds for nobody.
ABOVE_ALL = 1e300


def _clv_cut(connection: Connection, q: float, strict: bool) -> float | None:
    clv = PersonScore.__table__.c.clv_12m_minor
    n = connection.scalar(select(func.count()).where(clv.is_not(None)))
    if not n:
        return None  # nobody is scored: every comparison is false
    position = q * (n - 1)
    index = math.floor(position) + 1 if strict else math.ceil(position - 1e-9)
    if index >= n:
        return ABOVE_ALL
    query: Select[Any] = (
        select(clv).where(clv.is_not(None)).order_by(clv.asc()).limit(1).offset(index)
    )
    value = connection.scalar(query)
    return None if value is None else float(value)


def people_in_range(low: int, high: int) -> Scope:
    """People with ``low <= id < high``: the batch walks the id space in such ranges."""
    return Scope(low=low, high=high)


def people_listed(ids: Sequence[int]) -> Scope:
    return Scope(ids=tuple(ids))
