"""Rule conditions: a small JSON language, parsed and validated into a typed tree.

A condition is one JSON object of one of these shapes::

    {"all": [cond, ...]}            every one holds ({"all": []} always holds)
    {"any": [cond, ...]}            at least one holds
    {"not": cond}
    {"metric": NAME, "op": OP, "value": V}           a built-in metric (see METRICS)
    {"attribute": KEY, "op": OP, "value": V}         a custom attribute of the person
    {"events": {"type": T, "within_days": N, "channel": C}, "op": OP, "value": V}
                                                     how many events of type T
    {"tag": NAME}                                    the person has the tag

OP is one of ``= != < <= > >=``, ``in`` / ``not_in`` (V a list), ``set`` / ``unset``
(no V). A comparison with a missing value (no scores yet, attribute not set, no orders
for ``days_since_last_order``) is false, so ``{"not": ...}`` of it is true.

Errors raise :class:`~tenure.errors.InvalidInput` naming the exact field, e.g.
``condition.all.1.value``, which the API returns as a 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from tenure.errors import InvalidInput

Kind = Literal["number", "text"]
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
LIST_OPS = ("in", "not_in")
PRESENCE_OPS = ("set", "unset")
OPS = (*COMPARISONS, *LIST_OPS, *PRESENCE_OPS)
#: Bounds on one condition, so a rule compiles to a statement of sane size.
MAX_DEPTH = 8
MAX_LEAVES = 40
MAX_WINDOW_DAYS = 3650
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,49}$")
_CHANNEL = re.compile(r"^[a-z_]{1,30}$")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class MetricInfo:
    kind: Kind
    source: str
    description: str


#: Metrics a condition may read. ``source`` says which per-person aggregate computes it.
METRICS: dict[str, MetricInfo] = {
    "orders": MetricInfo("number", "activity", "orders placed"),
    "orders_365d": MetricInfo("number", "activity", "orders in the last 365 days"),
    "refunds": MetricInfo("number", "activity", "refunds"),
    "revenue_minor": MetricInfo(
        "number", "activity", "orders minus refunds, minor units (all currencies added)"
    ),
    "days_since_first_order": MetricInfo("number", "activity", "days since the first order"),
    "days_since_last_order": MetricInfo("number", "activity", "days since the last order"),
    "usual_order_interval_days": MetricInfo(
        "number", "activity", "mean days between orders (needs 2 orders)"
    ),
    "overdue_ratio": MetricInfo(
        "number",
        "activity",
        "days since the last order / usual order interval (needs 2 orders); 3 = three "
        "usual intervals without an order",
    ),
    "upsell_ratio_180d": MetricInfo(
        "number",
        "activity",
        "mean order value of the last 180 days / mean order value before (needs orders in both)",
    ),
    "engagements": MetricInfo(
        "number",
        "activity",
        "inbound interactions: every event except orders, refunds, email_sent and stage changes",
    ),
    "engagements_90d": MetricInfo("number", "activity", "inbound interactions, last 90 days"),
    "days_since_last_activity": MetricInfo(
        "number", "activity", "days since the last event of any kind but email_sent"
    ),
    "referrals_converted": MetricInfo("number", "activity", "referral_converted events"),
    "nps_last_score": MetricInfo(
        "number", "nps", "score of the latest NPS answer (survey_answered, payload survey=nps)"
    ),
    "new_categories_180d": MetricInfo(
        "number",
        "categories",
        "item categories first ordered in the last 180 days, after the first order day",
    ),
    "days_since_created": MetricInfo("number", "person", "days since the person was created"),
    "score.p_alive": MetricInfo("number", "scores", "BG/NBD probability of being alive (0-1)"),
    "score.churn_probability": MetricInfo("number", "scores", "churn probability (0-1)"),
    "score.expected_purchases_90d": MetricInfo("number", "scores", "expected purchases in 90 days"),
    "score.clv_12m_minor": MetricInfo("number", "scores", "predicted 12-month CLV, minor units"),
    "score.historical_clv_minor": MetricInfo("number", "scores", "historical CLV, minor units"),
    "score.clv_percentile": MetricInfo(
        "number",
        "clv_cut",
        "rank of the 12-month CLV among scored customers (0-1; 0.8 = top 20%); "
        "compare with < <= > >= only",
    ),
    "score.r_score": MetricInfo("number", "scores", "RFM recency score (1-5)"),
    "score.f_score": MetricInfo("number", "scores", "RFM frequency score (1-5)"),
    "score.m_score": MetricInfo("number", "scores", "RFM monetary score (1-5)"),
    "score.rfm_segment": MetricInfo("text", "scores", "RFM segment name"),
}


@dataclass(frozen=True)
class MetricRef:
    name: str


@dataclass(frozen=True)
class AttributeRef:
    key: str


@dataclass(frozen=True)
class EventCount:
    type: str
    within_days: int | None = None
    channel: str | None = None


Subject = MetricRef | AttributeRef | EventCount


@dataclass(frozen=True)
class Compare:
    subject: Subject
    op: str
    value: Any = None


@dataclass(frozen=True)
class HasTag:
    name: str


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | HasTag | AllOf | AnyOf | Not


def parse_condition(raw: Any, field: str = "condition") -> Condition:
    """Validate ``raw`` (decoded JSON) and return its tree; InvalidInput names the field."""
    counter = [0]
    return _parse(raw, field, 0, counter)


def _parse(raw: Any, field: str, depth: int, leaves: list[int]) -> Condition:
    if depth > MAX_DEPTH:
        raise InvalidInput(field, f"nests deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict):
        raise InvalidInput(field, "must be a JSON object")
    for shape in ("all", "any"):
        if shape in raw:
            _only(raw, {shape}, field)
            items = raw[shape]
            if not isinstance(items, list):
                raise InvalidInput(f"{field}.{shape}", "must be a list of conditions")
            parsed = tuple(
                _parse(item, f"{field}.{shape}.{i}", depth + 1, leaves)
                for i, item in enumerate(items)
            )
            return AllOf(parsed) if shape == "all" else AnyOf(parsed)
    if "not" in raw:
        _only(raw, {"not"}, field)
        return Not(_parse(raw["not"], f"{field}.not", depth + 1, leaves))
    leaves[0] += 1
    if leaves[0] > MAX_LEAVES:
        raise InvalidInput(field, f"a condition compares at most {MAX_LEAVES} values")
    if "tag" in raw:
        _only(raw, {"tag"}, field)
        name = raw["tag"]
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
            raise InvalidInput(f"{field}.tag", "must be a tag name (1 to 100 characters)")
        return HasTag(name.strip())
    if "metric" in raw:
        return _compare(raw, field, "metric", _metric(raw["metric"], f"{field}.metric"))
    if "attribute" in raw:
        key = raw["attribute"]
        if not isinstance(key, str) or not _ATTRIBUTE_KEY.match(key):
            raise InvalidInput(
                f"{field}.attribute", "must be an attribute key (letters, digits, _)"
            )
        return _compare(raw, field, "attribute", AttributeRef(key))
    if "events" in raw:
        return _compare(raw, field, "events", _event_count(raw["events"], f"{field}.events"))
    raise InvalidInput(
        field, "needs one of all, any, not, metric, attribute, events or tag (see the docs)"
    )


def _only(raw: dict[str, Any], allowed: set[str], field: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise InvalidInput(f"{field}.{extra[0]}", "is not allowed here")


def _metric(name: Any, field: str) -> MetricRef:
    if not isinstance(name, str) or name not in METRICS:
        known = ", ".join(sorted(METRICS))
        raise InvalidInput(field, f"unknown metric {name!r}; known metrics: {known}")
    return MetricRef(name)


def _event_count(raw: Any, field: str) -> EventCount:
    if not isinstance(raw, dict):
        raise InvalidInput(field, 'must be an object like {"type": "ticket_opened"}')
    _only(raw, {"type", "within_days", "channel"}, field)
    kind = raw.get("type")
    if not isinstance(kind, str) or not _EVENT_TYPE.match(kind):
        raise InvalidInput(f"{field}.type", "must be an event type (lowercase, digits, _ and .)")
    if kind == "stage_changed":
        raise InvalidInput(f"{field}.type", "stage changes are results of the rules, not inputs")
    days = raw.get("within_days")
    if days is not None and (
        not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS
    ):
        raise InvalidInput(
            f"{field}.within_days", f"must be a whole number, 1 to {MAX_WINDOW_DAYS}"
        )
    channel = raw.get("channel")
    if channel is not None and (not isinstance(channel, str) or not _CHANNEL.match(channel)):
        raise InvalidInput(f"{field}.channel", "must be a channel name (lowercase and _)")
    return EventCount(kind, days, channel)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(raw: dict[str, Any], field: str, shape: str, subject: Subject) -> Compare:
    _only(raw, {shape, "op", "value"}, field)
    op = raw.get("op")
    if op not in OPS:
        raise InvalidInput(f"{field}.op", f"must be one of {', '.join(OPS)}")
    if op in PRESENCE_OPS:
        if "value" in raw:
            raise InvalidInput(f"{field}.value", f"{op} takes no value")
        return Compare(subject, op)
    if "value" not in raw:
        raise InvalidInput(f"{field}.value", f"{op} needs a value")
    value = raw["value"]
    kind = _kind(subject)
    check = _value_checker(kind)
    if op in LIST_OPS:
        if not isinstance(value, list) or not value or len(value) > 100:
            raise InvalidInput(f"{field}.value", f"{op} needs a list of 1 to 100 values")
        for i, item in enumerate(value):
            check(item, f"{field}.value.{i}")
        return Compare(subject, op, tuple(value))
    check(value, f"{field}.value")
    if kind == "text" and op not in ("=", "!="):
        raise InvalidInput(f"{field}.op", "text compares with =, !=, in, not_in, set, unset")
    percentile = isinstance(subject, MetricRef) and subject.name == "score.clv_percentile"
    if percentile and (op not in ("<", "<=", ">", ">=") or not 0 <= value <= 1):
        raise InvalidInput(f"{field}.value", "clv_percentile compares (< <= > >=) with 0 to 1")
    return Compare(subject, op, value)


def _kind(subject: Subject) -> Kind | None:
    if isinstance(subject, MetricRef):
        return METRICS[subject.name].kind
    if isinstance(subject, EventCount):
        return "number"
    return None  # attributes hold whatever the workspace put there


def _value_checker(kind: Kind | None) -> Any:
    def check(value: Any, field: str) -> None:
        if kind == "number" and not _is_number(value):
            raise InvalidInput(field, "must be a number")
        if kind == "text" and not isinstance(value, str):
            raise InvalidInput(field, "must be a string")
        if kind is None and not (isinstance(value, str | bool) or _is_number(value)):
            raise InvalidInput(field, "must be a string, a number or true/false")

    return check


def walk(condition: Condition) -> list[Condition]:
    """Every node of the tree, depth first."""
    nodes: list[Condition] = [condition]
    if isinstance(condition, AllOf | AnyOf):
        for item in condition.items:
            nodes.extend(walk(item))
    elif isinstance(condition, Not):
        nodes.extend(walk(condition.item))
    return nodes
