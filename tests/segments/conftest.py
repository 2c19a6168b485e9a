"""A small hand-made workspace whose members every test can work out on paper.

Six people, evaluated at NOW (2026-01-01 00:00 UTC):

======  =====================  ============  ========================================
person  attributes             tags          other
======  =====================  ============  ========================================
ada     plan "pro", seats 12   vip           email ada@acme.test, Acme Corp, email
                                             marketing consent; orders 2025-03-01 500.00,
                                             2025-11-15 80.00, 2025-12-01 150.00;
                                             email_opened 2025-12-20; NPS 10; CLV 900
                                             Champions
bob     plan "free",           (none)        phone only, Globex, consent granted then
        seats "many"                         withdrawn; order 2025-06-01 20.00; NPS 3
                                             then 8 (passive); CLV 50, At risk
cy      plan "pro"             vip, beta     email cy@globex.test, no organization;
                                             orders 2025-12-30 10.00 (web), 2025-12-31
                                             15.00 (store); no scores
dee     (none)                 beta, 100%    email dee@example.com, sms consent only;
                                             email_opened 2025-10-01; NPS "9" (text:
                                             ignored); CLV 300, Loyal
eve     plan 5 (a number)      (none)        ACME Holdings; an order on 2026-02-01 (after
                                             NOW); scored without a CLV, New
fay     plan "Pro",            (none)        email fay@acme.test, Café Ünïcode; NPS 6;
        renewal "2026-01-20"                 CLV 120, Hibernating
======  =====================  ============  ========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tenure.customers.models import ConsentRecord, Identity, Organization, Person, Tag
from tenure.scores.models import PersonScore
from tenure.segments.compiler import compile_filter
from tenure.segments.operands import Context
from tenure.timeline.models import Event
from tests.score_refreshes import refresh_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ("ada", "bob", "cy", "dee", "eve", "fay")


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@dataclass
class World:
    session: Session
    ids: dict[str, int]

    @property
    def names(self) -> dict[int, str]:
        return {v: k for k, v in self.ids.items()}

    def context(self, now: datetime = NOW) -> Context:
        return Context(dialect=self.session.get_bind().dialect.name, now=now)

    def members(self, text: str, now: datetime = NOW, **kwargs: Any) -> set[str]:
        """The names of the people ``text`` selects at ``now``."""
        compiled = compile_filter(text, self.context(now), **kwargs)
        ids = self.session.connection().execute(compiled.person_ids()).scalars()
        names = self.names
        return {names[i] for i in ids if i in names}


def _score(
    person_id: int, refresh: int, segment: str, clv_major: int | None, **extra: Any
) -> PersonScore:
    values: dict[str, Any] = dict(
        person_id=person_id,
        refresh_id=refresh,
        purchase_days=1,
        frequency=0,
        recency_days=10,
        age_days=100,
        monetary_minor=1000,
        revenue_minor=1000,
        historical_clv_minor=1000,
        p_alive=0.5,
        expected_purchases_90d=0.2,
        clv_12m_minor=None if clv_major is None else clv_major * 100,
        r_score=3,
        f_score=3,
        m_score=3,
        rfm_segment=segment,
        churn_probability=0.5,
    )
    values.update(extra)
    return PersonScore(**values)


def _event(
    person_id: int,
    when: str,
    kind: str,
    amount: int | None = None,
    channel: str | None = "web",
    payload: dict[str, Any] | None = None,
) -> Event:
    return Event(
        person_id=person_id,
        occurred_at=at(when),
        received_at=NOW,
        type=kind,
        channel=channel,
        source="test",
        amount_minor=amount,
        currency="USD" if amount is not None else None,
        payload=payload or {},
    )


def build_world(session: Session) -> World:
    acme = Organization(name="Acme Corp", attributes={"industry": "retail"})
    globex = Organization(name="Globex", attributes={})
    holdings = Organization(name="ACME Holdings", attributes={})
    cafe = Organization(name="Café Ünïcode", attributes={})
    session.add_all([acme, globex, holdings, cafe])
    tags = {name: Tag(name=name) for name in ("vip", "beta", "100%", "under_score")}
    session.add_all(tags.values())
    people = {
        "ada": Person(first_name="Ada", last_name="A", attributes={"plan": "pro", "seats": 12}),
        "bob": Person(
            first_name="Bob", last_name="B", attributes={"plan": "free", "seats": "many"}
        ),
        "cy": Person(first_name="Cy", last_name="C", attributes={"plan": "pro"}),
        "dee": Person(first_name="Dee", last_name="D", attributes={}),
        "eve": Person(first_name="Eve", last_name="E", attributes={"plan": 5}),
        "fay": Person(
            first_name="Fay", last_name="F", attributes={"plan": "Pro", "renewal": "2026-01-20"}
        ),
    }
    people["ada"].organization = acme
    people["bob"].organization = globex
    people["eve"].organization = holdings
    people["fay"].organization = cafe
    people["ada"].tags = [tags["vip"]]
    people["cy"].tags = [tags["vip"], tags["beta"]]
    people["dee"].tags = [tags["beta"], tags["100%"]]
    session.add_all(people.values())
    session.flush()
    ids = {name: person.id for name, person in people.items()}

    def identity(name: str, kind: str, value: str) -> Identity:
        return Identity(person_id=ids[name], kind=kind, namespace="", value=value, original=value)

    session.add_all(
        [
            identity("ada", "email", "ada@acme.test"),
            identity("bob", "phone", "+14155550100"),
            identity("cy", "email", "cy@globex.test"),
            identity("dee", "email", "dee@example.com"),
            identity("fay", "email", "fay@acme.test"),
        ]
    )

    def consent(name: str, channel: str, status: str) -> ConsentRecord:
        return ConsentRecord(
            person_id=ids[name], channel=channel, purpose="marketing", status=status, source="test"
        )

    # One flush per record: "latest" is the highest id, so their order matters.
    for record in (
        consent("ada", "email", "granted"),
        consent("bob", "email", "granted"),
        consent("bob", "email", "withdrawn"),
        consent("dee", "sms", "granted"),
    ):
        session.add(record)
        session.flush()

    def nps(score: object) -> dict[str, object]:
        return {"survey": "nps", "score": score}

    def csat(score: object) -> dict[str, object]:
        return {"survey": "csat", "score": score}

    session.add_all(
        [
            _event(ids["ada"], "2025-03-01", "order", 50000),
            _event(ids["ada"], "2025-11-15", "order", 8000),
            _event(ids["ada"], "2025-12-01", "order", 15000),
            _event(ids["ada"], "2025-12-20", "email_opened", channel="email"),
            _event(ids["ada"], "2025-12-10", "survey_answered", payload=nps(10)),
            _event(ids["bob"], "2025-06-01", "order", 2000),
            _event(ids["bob"], "2025-10-01", "survey_answered", payload=nps(3)),
            _event(ids["bob"], "2025-12-01", "survey_answered", payload=nps(8)),
            _event(ids["cy"], "2025-12-30", "order", 1000, channel="web"),
            _event(ids["cy"], "2025-12-31", "order", 1500, channel="store"),
            _event(ids["dee"], "2025-10-01", "email_opened", channel="email"),
            _event(ids["dee"], "2025-11-01", "survey_answered", payload=nps("9")),
            _event(ids["eve"], "2026-02-01", "order", 99900),
            _event(ids["fay"], "2025-09-01", "survey_answered", payload=nps(6)),
            _event(ids["fay"], "2025-09-02", "survey_answered", payload=csat(5)),
        ]
    )
    refresh = refresh_id(session, as_of=NOW)
    session.add_all(
        [
            _score(ids["ada"], refresh, "Champions", 900, p_alive=0.9, churn_probability=0.1),
            _score(ids["bob"], refresh, "At risk", 50, churn_probability=0.8),
            _score(ids["dee"], refresh, "Loyal", 300),
            _score(ids["eve"], refresh, "New", None),
            _score(ids["fay"], refresh, "Hibernating", 120),
        ]
    )
    session.flush()
    return World(session=session, ids=ids)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)
