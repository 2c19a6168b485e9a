"""The fields a filter can name, and how each reads a person's value.

Person columns are read directly; scores, the organization and the owner through LEFT
JOINs (collected in ``Resolver.joins``, added once to the query); sets of values (tags,
identities, segments) through ``EXISTS``; the NPS category through the person's latest
NPS answer; the stage through ``tenure.segments.stages``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, func, select

from tenure.customers.models import (
    Identity,
    IdentityKind,
    Organization,
    Person,
    Tag,
    organization_tags,
    person_tags,
)
from tenure.identity.models import User
from tenure.scores.models import PersonScore
from tenure.scores.segments import SEGMENTS
from tenure.segments.jsonpath import KEY, JsonAttribute, JsonKey
from tenure.segments.models import Segment, SegmentMember
from tenure.segments.operands import Context, Operand, Ranges, Scalar, SetOf
from tenure.segments.stages import StageSource, current_stage
from tenure.segments.syntax import Field, FilterError
from tenure.timeline.models import Event

people = Person.__table__
scores = PersonScore.__table__
organizations = Organization.__table__
owners = User.__table__.alias("owner")
tags = Tag.__table__
identities = Identity.__table__
members = SegmentMember.__table__
segments = Segment.__table__
events = Event.__table__

# Value tiers: the top PREMIUM_PERCENT of scored customers by predicted 12-month CLV are
# premium, the rest occasional (a Pareto split: the top fifth usually brings most value).
PREMIUM_PERCENT = 20
VALUE_TIERS = ("premium", "occasional")
NPS_CATEGORIES = ("promoter", "passive", "detractor")
NPS_EVENT = "survey_answered"

PERSON_FIELDS = {
    "id": ("number", people.c.id),
    "first_name": ("string", people.c.first_name),
    "last_name": ("string", people.c.last_name),
    "job_title": ("string", people.c.job_title),
    "created_at": ("datetime", people.c.created_at),
    "updated_at": ("datetime", people.c.updated_at),
}
SCORE_FIELDS = {
    "clv": ("money", scores.c.clv_12m_minor),
    "historical_clv": ("money", scores.c.historical_clv_minor),
    "revenue": ("money", scores.c.revenue_minor),
    "average_order_value": ("money", scores.c.monetary_minor),
    "p_alive": ("number", scores.c.p_alive),
    "churn_probability": ("number", scores.c.churn_probability),
    "expected_purchases": ("number", scores.c.expected_purchases_90d),
    "r_score": ("number", scores.c.r_score),
    "f_score": ("number", scores.c.f_score),
    "m_score": ("number", scores.c.m_score),
    "recency_days": ("number", scores.c.recency_days),
    "frequency": ("number", scores.c.frequency),
    "purchase_days": ("number", scores.c.purchase_days),
}
SET_FIELDS = ("tag", "segment", *(kind.value for kind in IdentityKind))
OTHER_FIELDS = (
    "attribute.<key>",
    "organization",
    "organization.name",
    "organization.domain",
    "organization.tag",
    "organization.attribute.<key>",
    "owner",
    "rfm_segment",
    "value_tier",
    "nps",
    "nps_score",
    "stage",
)
FIELD_NAMES = (*PERSON_FIELDS, *SCORE_FIELDS, *SET_FIELDS, *OTHER_FIELDS)


class Resolver:
    """Turns field names into operands, remembering the joins and segments they need."""

    def __init__(self, ctx: Context, stage: StageSource = current_stage) -> None:
        self.ctx = ctx
        self.stage = stage
        self.joins: set[str] = set()
        # Segment names used with = or in, and where: the caller checks that they exist.
        self.segment_names: dict[str, int] = {}

    def resolve(self, field: Field) -> Operand:
        name = field.name.lower()
        head = field.path[0].lower()
        if name in PERSON_FIELDS:
            kind, column = PERSON_FIELDS[name]
            return Scalar(name, column, kind)
        if name in SCORE_FIELDS:
            self.joins.add("scores")
            kind, column = SCORE_FIELDS[name]
            return Scalar(name, column, kind)
        if head == "attribute":
            return self._attribute(field, people.c.attributes, 1)
        if head == "organization":
            return self._organization(field)
        method = getattr(self, f"_{name}", None)
        if name in (*SET_FIELDS, *OTHER_FIELDS) and method is not None:
            return method(field)  # type: ignore[no-any-return]
        raise _unknown(field)

    # Person ---------------------------------------------------------------------------

    def _attribute(self, field: Field, column: Any, at: int) -> Operand:
        rest = field.path[at:]
        if len(rest) != 1 or not KEY.match(rest[0]):
            prefix = ".".join(field.path[:at])
            raise FilterError(field.pos, f"{prefix} takes one key", [f"{prefix}.<key>"])
        return JsonAttribute(field.name, JsonKey(column, rest[0], self.ctx.dialect))

    def _owner(self, field: Field) -> Operand:
        self.joins.add("owner")
        return Scalar("owner", owners.c.email, "string")

    def _tag(self, field: Field) -> Operand:
        def tagged(cond: Callable[[Any], Any] | None) -> Any:
            query = exists().where(person_tags.c.person_id == people.c.id)
            if cond is not None:
                query = query.where(
                    person_tags.c.tag_id.in_(select(tags.c.id).where(cond(tags.c.name)))
                )
            return query.correlate(people)

        return SetOf("tag", tagged)

    def _identity(self, kind: str) -> Operand:
        def known_by(cond: Callable[[Any], Any] | None) -> Any:
            query = exists().where(identities.c.person_id == people.c.id, identities.c.kind == kind)
            if cond is not None:
                query = query.where(cond(identities.c.value))
            return query.correlate(people)

        # Emails are stored lowercased (customers.identities); match them the same way.
        if kind == IdentityKind.email:
            return SetOf(kind, known_by, normalize=lambda value, pos: value.lower())
        return SetOf(kind, known_by)

    def _email(self, field: Field) -> Operand:
        return self._identity("email")

    def _phone(self, field: Field) -> Operand:
        return self._identity("phone")

    def _social(self, field: Field) -> Operand:
        return self._identity("social")

    def _external(self, field: Field) -> Operand:
        return self._identity("external")

    def _segment(self, field: Field) -> Operand:
        names = self.segment_names

        def member_of(cond: Callable[[Any], Any] | None) -> Any:
            query = exists().where(members.c.person_id == people.c.id)
            if cond is not None:
                named = select(segments.c.id).where(cond(segments.c.name))
                query = query.where(members.c.segment_id.in_(named))
            return query.correlate(people)

        def remember(name: str, pos: int) -> str:
            names.setdefault(name, pos)
            return name

        return SetOf("segment", member_of, normalize=remember)

    def _stage(self, field: Field) -> Operand:
        operand = self.stage()
        if operand is None:
            raise FilterError(
                field.pos, "stage is not available: this database stores no lifecycle stages yet"
            )
        return operand

    # Organization ---------------------------------------------------------------------

    def _organization(self, field: Field) -> Operand:
        self.joins.add("organization")
        rest = tuple(part.lower() for part in field.path[1:])
        if rest in ((), ("name",)):
            return Scalar(field.name, organizations.c.name, "string")
        if rest == ("domain",):
            return Scalar(field.name, organizations.c.domain, "string")
        if rest and rest[0] == "attribute":
            return self._attribute(field, organizations.c.attributes, 2)
        if rest == ("tag",):

            def tagged(cond: Callable[[Any], Any] | None) -> Any:
                query = exists().where(
                    organization_tags.c.organization_id == people.c.organization_id
                )
                if cond is not None:
                    named = select(tags.c.id).where(cond(tags.c.name))
                    query = query.where(organization_tags.c.tag_id.in_(named))
                return query.correlate(people)

            return SetOf(field.name, tagged)
        raise _unknown(field)

    # Scores and feedback --------------------------------------------------------------

    def _rfm_segment(self, field: Field) -> Operand:
        self.joins.add("scores")
        return Scalar("rfm_segment", scores.c.rfm_segment, "category", choices=SEGMENTS)

    def _value_tier(self, field: Field) -> Operand:
        self.joins.add("scores")
        threshold = premium_threshold()
        return Ranges(
            "value_tier",
            scores.c.clv_12m_minor,
            {"premium": lambda clv: clv >= threshold, "occasional": lambda clv: clv < threshold},
        )

    def _nps_score(self, field: Field) -> Operand:
        return Scalar("nps_score", latest_nps_score(self.ctx), "number", guard="coalesce")

    def _nps(self, field: Field) -> Operand:
        return Ranges(
            "nps",
            latest_nps_score(self.ctx),
            {
                "promoter": lambda score: score >= 9,
                "passive": lambda score: (score >= 7) & (score < 9),
                "detractor": lambda score: score < 7,
            },
        )


def premium_threshold() -> Any:
    """The CLV at the top PREMIUM_PERCENT boundary: the k-th largest, k = ceil(n * p)."""
    ranked = scores.alias("ranked")
    counted = scores.alias("counted")
    # ceil(n * p / 100) - 1 == (n * p - 1) // 100 for n >= 1, and 0 (no row) for n = 0:
    # SQL integer division truncates -1 // 100 to 0 on SQLite and PostgreSQL alike.
    offset = (
        select((func.count() * PREMIUM_PERCENT - 1) // 100)
        .where(counted.c.clv_12m_minor.is_not(None))
        .scalar_subquery()
    )
    query = select(ranked.c.clv_12m_minor).where(ranked.c.clv_12m_minor.is_not(None))
    return query.order_by(ranked.c.clv_12m_minor.desc()).limit(1).offset(offset).scalar_subquery()


def latest_nps_score(ctx: Context) -> Any:
    """The score of the person's latest NPS answer on the 0-10 scale (as the KPIs read it)."""
    answer = events.alias("nps")
    score = JsonKey(answer.c.payload, "score", ctx.dialect).number()
    survey = JsonKey(answer.c.payload, "survey", ctx.dialect).text(equality=True)
    query = (
        select(score)
        .where(
            answer.c.person_id == people.c.id,
            answer.c.type == NPS_EVENT,
            answer.c.occurred_at <= ctx.now,
            survey == "nps",
            score >= 0,
            score <= 10,
        )
        .order_by(answer.c.occurred_at.desc(), answer.c.id.desc())
        .limit(1)
    )
    return query.correlate(people).scalar_subquery()


def _unknown(field: Field) -> FilterError:
    close = difflib.get_close_matches(field.name.lower(), FIELD_NAMES, n=3, cutoff=0.6)
    problem = f"unknown field {field.name!r}"
    if close:
        problem += f" (did you mean {' or '.join(repr(c) for c in close)}?)"
    return FilterError(field.pos, problem, close or FIELD_NAMES)
