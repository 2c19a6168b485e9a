"""What a template knows about its recipient: ``build_context(session, person_id)``.

The names and their shapes are declared in :mod:`templating.fields` (the checker reads the
same declaration); this module fills them from the capabilities that own the data: the
person and their custom attributes (customers), their latest orders (timeline), scores,
lifecycle stage and next best action (retention), and the workspace. It runs a handful of
indexed reads per person.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from tenure.customers.attributes import declared_attributes
from tenure.customers.queries import get_person
from tenure.lifecycle.queries import person_stage
from tenure.messaging.templating.fields import LAST_ORDERS, context_fields
from tenure.messaging.templating.sandbox import Money
from tenure.retention.queries import next_best_action
from tenure.scores.queries import person_scores
from tenure.timeline.queries import order_summary, person_timeline
from tenure.workspace import clock
from tenure.workspace.queries import get_workspace

#: ``unsubscribe_url`` when the caller gives none (previews): a link that goes nowhere.
#: The sender passes the person's signed one-click link.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/preview"


def declared_keys(session: Session) -> list[str]:
    """The workspace's declared custom attributes of people, sorted."""
    return sorted(declared_attributes(session, "person"))


def schema_for(session: Session) -> dict[str, Any]:
    """The context schema of this workspace (its declared custom attributes)."""
    return context_fields(declared_keys(session))


def _money(amount_minor: int | None, currency: str | None) -> Money | None:
    return None if amount_minor is None else Money(int(amount_minor), currency)


def _order(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event["id"],
        "date": event["occurred_at"],
        "total": _money(event["amount_minor"], event["currency"]),
        "items": [
            {
                "sku": item["sku"],
                "category": item["category"],
                "quantity": item["quantity"],
                "unit_price": _money(item["unit_price_minor"], event["currency"]),
            }
            for item in event["items"]
        ],
    }


def _person(session: Session, person_id: int, keys: Collection[str]) -> dict[str, Any]:
    person = get_person(session, person_id)  # NotFound for an unknown id
    emails = [i for i in person["identities"] if i["kind"] == "email"]
    email = next((i["value"] for i in emails if i["is_primary"]), None)
    email = email or (emails[0]["value"] if emails else None)
    name = " ".join(p for p in (person["first_name"], person["last_name"]) if p)
    attributes: dict[str, Any] = {key: None for key in keys}
    attributes.update(person["attributes"] or {})
    return {
        "id": person["id"],
        "name": name or email or "",
        "first_name": person["first_name"],
        "last_name": person["last_name"],
        "email": email,
        "job_title": person["job_title"],
        "organization_name": (person["organization"] or {}).get("name"),
        "customer_since": person["created_at"],
        "tags": list(person["tags"]),
        "attributes": attributes,
    }


def _scores(session: Session, person_id: int) -> dict[str, Any] | None:
    scores = person_scores(session, person_id)
    if scores is None:
        return None
    currency = scores["currency"]
    return {
        "as_of": scores["as_of"],
        "clv_12m": _money(scores["clv_12m_minor"], currency),
        "historical_clv": _money(scores["historical_clv_minor"], currency),
        "churn_risk": scores["churn_probability"],
        "p_alive": scores["p_alive"],
        "expected_purchases_90d": scores["expected_purchases_90d"],
        "rfm_segment": scores["rfm_segment"],
        "recency_days": scores["recency_days"],
        "frequency": scores["frequency"],
    }


def _stage(session: Session, person_id: int) -> dict[str, Any] | None:
    stage = person_stage(session, person_id)
    if stage is None:
        return None
    return {"key": stage["stage"], "name": stage["stage_name"], "entered": stage["entered_at"]}


def _next_best_action(session: Session, person_id: int, today: Any) -> tuple[Any, list[str]]:
    offers = next_best_action(session, person_id, as_of=today)
    if offers["run"] and not offers["offers"]:
        # As the person page's card: one who bought every category may have product rules.
        products = next_best_action(session, person_id, as_of=today, level="sku")
        if products["offers"]:
            offers = products
    if not offers["offers"]:
        return None, list(offers["popular"])
    best = offers["offers"][0]
    action = {
        "offer": best["offer"],
        "because_bought": best["because_bought"],
        "offer_on": best["offer_on"],
        "due_now": best["due_now"],
        "text": best["text"],
        "confidence": best["confidence"],
    }
    return action, list(offers["popular"])


def _orders(session: Session, person_id: int) -> list[dict[str, Any]]:
    events, _ = person_timeline(
        session, person_id=person_id, types=["order"], limit=LAST_ORDERS, check_person=False
    )
    return [_order(event) for event in events]


def _summary(session: Session, person_id: int) -> dict[str, Any]:
    summary = order_summary(session, person_id)
    # The main currency: the one with the largest net revenue.
    revenue = max(summary["revenue"], key=lambda r: r["amount_minor"], default=None)
    return {
        "order_count": summary["order_count"],
        "first_order_date": summary["first_order_at"],
        "revenue": _money(revenue["amount_minor"], revenue["currency"]) if revenue else None,
    }


#: Which reads fill which variables: a template that names none of a group's variables
#: does not pay for its reads (the next best action costs ~100 ms a person, measured on
#: the demo: most of a context's time).
_GROUPS: dict[str, tuple[str, ...]] = {
    "orders": ("orders", "last_order"),
    "summary": ("order_count", "first_order_date", "revenue"),
    "scores": ("scores",),
    "stage": ("stage",),
    "next_best_action": ("next_best_action", "popular_items"),
    "workspace": ("workspace",),
}


def build_context(
    session: Session,
    person_id: int,
    *,
    unsubscribe_url: str | None = None,
    names: Collection[str] | None = None,
    attribute_keys: Collection[str] | None = None,
) -> dict[str, Any]:
    """The variables of :func:`templating.fields.context_fields` for one person, as plain
    data (dicts, lists, text, numbers, dates, Money); NotFound for an unknown person.

    ``names`` limits the reads to the variables a template uses (``used_names``); None
    fills them all; ``attribute_keys``, the declared custom attributes, when the caller has
    read them already. ``unsubscribe_url`` is the person's one-click unsubscribe link, which
    only the sender can sign; previews get :data:`UNSUBSCRIBE_PLACEHOLDER`.
    """
    wanted = set(context_fields()) if names is None else set(names)
    today = clock.now(session)
    context: dict[str, Any] = {
        "person": _person(
            session,
            person_id,
            declared_keys(session) if attribute_keys is None else attribute_keys,
        ),
        "unsubscribe_url": unsubscribe_url or UNSUBSCRIBE_PLACEHOLDER,
        "today": today,
    }
    groups = {group for group, members in _GROUPS.items() if wanted.intersection(members)}
    if "orders" in groups:
        orders = _orders(session, person_id)
        context.update(orders=orders, last_order=orders[0] if orders else None)
    if "summary" in groups:
        context.update(_summary(session, person_id))
    if "scores" in groups:
        context["scores"] = _scores(session, person_id)
    if "stage" in groups:
        context["stage"] = _stage(session, person_id)
    if "next_best_action" in groups:
        action, popular = _next_best_action(session, person_id, today)
        context.update(next_best_action=action, popular_items=popular)
    if "workspace" in groups:
        context["workspace"] = {"name": get_workspace(session).name}
    return context
