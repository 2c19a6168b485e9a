"""What a template may name: the context schema, checked at save and shown on the edit page.

Every variable a template can use is declared here with its kind and a sentence for the
editor. The checker (``templating.checks``) walks a template's syntax tree against this
tree, so ``{{ person.nmae }}`` is refused when the template is saved, naming the field,
instead of failing for the first customer it is sent to. ``build_context`` (in
``templating.context``) fills exactly these names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class Kind(enum.StrEnum):
    text = "text"
    number = "number"
    boolean = "boolean"
    date = "date"
    money = "money"
    object = "object"
    list = "list"
    #: Custom attributes: an object whose keys are the workspace's declared attributes.
    attributes = "attributes"
    #: Something the checker does not follow (a macro's argument, a call's result).
    any = "any"


@dataclass(frozen=True)
class Field:
    kind: Kind
    doc: str = ""
    fields: Mapping[str, Field] = field(default_factory=lambda: MappingProxyType({}))
    item: Field | None = None  # a list's element
    #: None for people without it (no orders, not scored yet): guard with ``{% if %}``.
    optional: bool = False


ANY = Field(Kind.any)


def obj(doc: str, optional: bool = False, **fields: Field) -> Field:
    return Field(Kind.object, doc, MappingProxyType(fields), optional=optional)


def text(doc: str, optional: bool = False) -> Field:
    return Field(Kind.text, doc, optional=optional)


def number(doc: str, optional: bool = False) -> Field:
    return Field(Kind.number, doc, optional=optional)


def date(doc: str, optional: bool = False) -> Field:
    return Field(Kind.date, doc, optional=optional)


def money(doc: str, optional: bool = False) -> Field:
    return Field(Kind.money, doc, optional=optional)


def list_of(doc: str, item: Field) -> Field:
    return Field(Kind.list, doc, item=item)


ORDER_ITEM = obj(
    "One line of an order.",
    sku=text("Product code, or empty.", optional=True),
    category=text("Product category, or empty.", optional=True),
    quantity=number("How many."),
    unit_price=money("Price of one, or empty.", optional=True),
)
ORDER = obj(
    "An order event from the timeline.",
    id=number("The event's id."),
    date=date("When it was placed."),
    total=money("Its amount, in its currency.", optional=True),
    items=list_of("Its lines (empty when the order listed none).", ORDER_ITEM),
)

#: Attributes of a Money value (``{{ order.total }}`` prints it formatted, like ``|money``).
MONEY_FIELDS = frozenset({"amount", "amount_minor", "currency"})
#: Attributes of a date a template may read or call (``{{ order.date.year }}``).
DATE_FIELDS = frozenset(
    {"year", "month", "day", "hour", "minute", "weekday", "isoweekday", "isoformat", "strftime"}
)
#: ``loop`` inside a ``{% for %}``.
LOOP_FIELDS = frozenset(
    {
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "depth",
        "depth0",
        "previtem",
        "nextitem",
        "cycle",
        "changed",
    }
)
#: Calling these on text is how the format-string escapes start (``"{0.__class__}"
#: .format(x)``); refused by name at save and by the sandbox at render.
FORBIDDEN_TEXT_METHODS = frozenset({"format", "format_map"})
TEXT_METHODS = frozenset(
    name
    for name in dir(str)
    if not name.startswith("_") and name not in FORBIDDEN_TEXT_METHODS | {"maketrans"}
)

#: Number of recent orders in ``orders``.
LAST_ORDERS = 5


def context_fields(attribute_keys: Iterable[str] = ()) -> dict[str, Field]:
    """The top-level variables, with ``person.attributes`` holding ``attribute_keys``."""
    attributes = Field(
        Kind.attributes,
        "Custom attributes the workspace declared (empty when the person has none).",
        MappingProxyType({key: ANY for key in sorted(attribute_keys)}),
    )
    return {
        "person": obj(
            "The recipient.",
            id=number("Their id in Tenure."),
            name=text("First and last name, or the email when both are empty."),
            first_name=text("First name.", optional=True),
            last_name=text("Last name.", optional=True),
            email=text("Primary email address.", optional=True),
            job_title=text("Job title.", optional=True),
            organization_name=text("Their organization's name.", optional=True),
            customer_since=date("When they became known to Tenure."),
            tags=list_of("Tag names.", text("A tag.")),
            attributes=attributes,
        ),
        "orders": list_of(f"The latest {LAST_ORDERS} orders, newest first.", ORDER),
        "last_order": Field(
            Kind.object, "The newest order, or empty.", ORDER.fields, optional=True
        ),
        "order_count": number("How many orders they placed."),
        "first_order_date": date("Date of their first order.", optional=True),
        "revenue": money("Net revenue (orders minus refunds), main currency.", optional=True),
        "scores": obj(
            "Computed scores from the last refresh, or empty.",
            optional=True,
            as_of=date("When the scores were computed."),
            clv_12m=money("Predicted value of the next 12 months.", optional=True),
            historical_clv=money("Value so far.", optional=True),
            churn_risk=number("Churn probability, 0 to 1.", optional=True),
            p_alive=number("Probability the customer is still active, 0 to 1.", optional=True),
            expected_purchases_90d=number("Expected purchases in 90 days.", optional=True),
            rfm_segment=text("RFM segment (Champions, At risk...).", optional=True),
            recency_days=number("Days since their last purchase.", optional=True),
            frequency=number("Repeat purchases.", optional=True),
        ),
        "stage": obj(
            "Lifecycle stage, or empty when not placed yet.",
            optional=True,
            key=text("Stage key (active, lapsed...)."),
            name=text("Stage name."),
            entered=date("When they entered it."),
        ),
        "next_best_action": obj(
            "The best offer for them from the mined rules, or empty.",
            optional=True,
            offer=text("What to offer."),
            because_bought=text("What they bought that suggests it."),
            offer_on=date("When to offer it."),
            due_now=Field(Kind.boolean, "Whether that day has come."),
            text=text("The rule in one sentence."),
            confidence=number("Share of buyers who went on to buy it, 0 to 1."),
        ),
        "popular_items": list_of(
            "Most bought items they do not have yet (a fallback offer).", text("An item.")
        ),
        "workspace": obj("Your workspace.", name=text("Its name.")),
        "unsubscribe_url": text(
            "Link that unsubscribes them at once (filled by the sender; a placeholder in previews)."
        ),
        "today": date("The workspace's today."),
    }


def describe(fields: Mapping[str, Field], prefix: str = "") -> list[dict[str, str]]:
    """The schema as rows ``{name, kind, doc}`` for the edit page and the docs."""
    rows: list[dict[str, str]] = []
    for name, spec in fields.items():
        path = f"{prefix}{name}"
        kind = spec.kind.value + (" or empty" if spec.optional else "")
        if spec.kind == Kind.list and spec.item is not None:
            kind = f"list of {spec.item.kind.value}"
        rows.append({"name": path, "kind": kind, "doc": spec.doc})
        if spec.kind == Kind.object:
            rows.extend(describe(spec.fields, path + "."))
        elif spec.kind == Kind.list and spec.item is not None and spec.item.kind == Kind.object:
            rows.extend(describe(spec.item.fields, path + "[]."))
    return rows
