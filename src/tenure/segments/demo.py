"""The segments' part of the demo workspace: a marketer's dynamic segments and a sales
rep's static list, so "Your segments" is not empty on first look.

The dynamic segments read scores, NPS answers (``timeline.feedback``) and consents; they
are created with their filter compiled (so a filter the language refuses fails the build)
and no members: the nightly chain that ends the demo build (``tenure demo``, ``tenure
init --demo-if-empty``) refreshes every dynamic segment once the scores exist. The static
list gets its members at once, entered on the demo's today. Rows are written in the
builder's transaction (``create_segment`` commits), audited like the action's.
"""

from __future__ import annotations

from sqlalchemy import select

from tenure.config import get_settings
from tenure.customers.models import Person
from tenure.identity.audit import audit_created
from tenure.identity.models import User
from tenure.segments import membership
from tenure.segments.actions import compile_for
from tenure.segments.models import Segment, SegmentKind
from tenure.workspace.demo import DemoContext, register_demo_contribution
from tenure.workspace.settings import currency

#: (name, description, filter) of the marketer's dynamic segments.
DYNAMIC = (
    (
        "Detractors who still buy",
        "Their latest NPS answer is 0 to 6 and they ordered in the last 180 days: "
        "call them before they go.",
        'nps = "detractor" and count(order, last 180 days) >= 1',
    ),
    (
        "Valuable and slipping",
        "Over 100 spent to date and a churn probability of 50% or more.",
        "historical_clv > 100 and churn_probability >= 0.5",
    ),
    (
        "Newsletter regulars",
        "Marketing email consent in force and two orders or more in the last 90 days.",
        "consent(email, marketing) and count(order, last 90 days) >= 2",
    ),
)
MARKETER = "mo.marketing@demo.tenure.dev"
STATIC_NAME = "Spring trade fair contacts"
STATIC_DESCRIPTION = "Business contacts met at the spring trade fair, to follow up by hand."
SALES_REP = "maria.sales@demo.tenure.dev"
STATIC_MEMBERS = 24


def add_demo_segments(context: DemoContext) -> None:
    session = context.session
    users = dict(session.execute(select(User.email, User.id)).all())
    money = currency(session, get_settings())
    for name, description, text in DYNAMIC:
        compile_for(session, text, currency=money, as_of=context.today, segment_name=name)
        _add(context, name, description, SegmentKind.dynamic, text, users.get(MARKETER))
    segment = _add(
        context, STATIC_NAME, STATIC_DESCRIPTION, SegmentKind.static, None, users.get(SALES_REP)
    )
    customers = set(context.customer_ids)
    b2b = [
        person_id
        for person_id in session.scalars(
            select(Person.id).where(Person.organization_id.is_not(None)).order_by(Person.id)
        )
        if person_id in customers
    ]
    picked = sorted(
        int(p) for p in context.rng.choice(b2b, size=min(STATIC_MEMBERS, len(b2b)), replace=False)
    )
    membership.add_members(
        session,
        segment,
        select(Person.id.label("person_id")).where(Person.id.in_(picked)),
        as_of=context.today,
    )


def _add(
    context: DemoContext,
    name: str,
    description: str,
    kind: SegmentKind,
    text: str | None,
    creator_id: int | None,
) -> Segment:
    segment = Segment(
        name=name,
        description=description,
        kind=kind.value,
        filter=text,
        member_count=0,
        created_by_id=creator_id,
    )
    context.session.add(segment)
    context.session.flush()
    audit_created(
        session=context.session,
        actor_id=creator_id,
        entity_type="segment",
        entity_id=segment.id,
        fields={"name": name, "kind": kind.value, "filter": text},
    )
    return segment


def register() -> None:
    # After the survey answers (timeline.feedback, 55) its filters read.
    register_demo_contribution("segments.demo", add_demo_segments, order=65)
