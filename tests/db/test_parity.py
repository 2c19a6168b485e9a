"""One workspace, built through the API on SQLite and on PostgreSQL, must give the same
stages, scores and segment members (issue 9, item 7).

The data is made of awkward values: orders a microsecond apart, at 23:59:59.999999 and
right after midnight, in several time zones and currencies, attributes holding integers
beyond 2^53 and fractions, and the filters cover every construct of the segment language
(docs/segments.md). Both databases are needed at once, so the test is skipped without
TENURE_TEST_POSTGRES_URL (``make test`` sets it).
"""

from __future__ import annotations

import math
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.db.engine import create_db_engine
from tenure.db.migrate import upgrade_database
from tenure.scores.models import PersonScore
from tenure.scores.refresh import refresh_scores
from tenure.segments.compiler import compile_filter
from tenure.segments.operands import Context
from tenure.web.app import create_app
from tests.conftest import (
    POSTGRES_URL,
    TEST_SECRET,
    _create_postgres_database,
    _drop_postgres_database,
    make_api_user,
)

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="the parity test needs TENURE_TEST_POSTGRES_URL"
)

AS_OF = datetime(2026, 4, 15, 12, tzinfo=UTC)
BIG = 12_345_678_901_234_567  # beyond 2^53: a double cannot hold it


def _people() -> list[dict[str, Any]]:
    """A few dozen people; the first ones carry the cases that once differed."""
    people: list[dict[str, Any]] = [
        # Two orders 1 microsecond apart: overdue on both (julianday saw a gap of 0).
        {
            "name": "micro",
            "orders": [
                ("2025-06-01T12:00:00.000000Z", 5000, "USD"),
                ("2025-06-01T12:00:00.000001Z", 7000, "USD"),
            ],
            "attributes": {"seats": BIG},
        },
        # First order at the last microsecond of a day, the next one the following day:
        # the first day holds one order (SQLite's date(..., '+1 day') said two days).
        {
            "name": "midnight",
            "orders": [
                ("2026-03-31T23:59:59.999999Z", 1000, "USD"),
                ("2026-04-01T00:00:00.000000Z", 90000, "USD"),
                ("2026-04-10T08:00:00Z", 3000, "USD"),
            ],
            "attributes": {"seats": BIG + 1},
        },
        # Time zones around a UTC day boundary.
        {
            "name": "zones",
            "orders": [
                ("2026-03-31T20:00:00-04:00", 2500, "USD"),  # 2026-04-01 00:00 UTC
                ("2026-04-01T05:29:59.999999+05:30", 2500, "USD"),  # 2026-03-31 23:59:59
                ("2026-04-02T23:59:59.999500-08:00", 9999, "USD"),
            ],
            "attributes": {"seats": BIG - 1, "ratio": 0.1},
        },
        # Other currencies and big amounts.
        {
            "name": "currencies",
            "orders": [
                ("2025-12-31T23:59:59.999999Z", 1_000_000_000_000, "JPY"),
                ("2026-01-01T00:00:00Z", 4200, "EUR"),
                ("2026-02-14T12:00:00.5Z", 4200, "USD"),
            ],
            "attributes": {"seats": 2.5, "ratio": 0.30000000000000004},
        },
        {"name": "never", "orders": [], "attributes": {"label": "many", "ratio": 1}},
    ]
    for i in range(30):
        orders = []
        day = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=(i * 37) % 300)
        for n in range(1 + i % 5):
            moment = day + timedelta(
                days=n * (20 + 9 * (i % 6)), microseconds=(i * 7919 + n) % 10**6
            )
            if n == 1 and i % 4 == 0:
                moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
            currency = ("USD", "USD", "EUR")[(i + n) % 3]
            orders.append((moment.isoformat(), 1000 + (i * 613 + n * 97) % 20000, currency))
        attributes: dict[str, Any] = {"plan": ("pro", "free", "Pro")[i % 3], "seats": i}
        if i % 5 == 0:
            attributes["renewal"] = f"2026-0{1 + i % 9}-15"
        if i % 7 == 0:
            attributes["vip"] = True
        people.append({"name": f"p{i:02d}", "orders": orders, "attributes": attributes})
    return people


PEOPLE = _people()

FILTERS = [
    # fields of the person, text operators
    "id > 3",
    "first_name = 'p05'",
    "first_name != 'p05'",
    'first_name < "p1"',
    'first_name ~ "P0"',
    'first_name in ("micro", "zones", "nobody")',
    'first_name not in ("micro", "zones")',
    "job_title = 'Buyer'",
    "created_at < 2020-01-01",
    "created_at within 30 days",
    # attributes of every type, big numbers and fractions
    'attribute.plan = "pro"',
    'attribute.plan ~ "pro"',
    "attribute.seats < 12345678901234567.5",
    "attribute.seats <= 12345678901234567.5",
    "attribute.seats > 12345678901234567.5",
    "attribute.seats >= 12345678901234567",
    "attribute.seats = 12345678901234567",
    "attribute.seats != 2.5",
    "attribute.seats in (2.5, 3, 12345678901234568)",
    "attribute.seats > 2.4",
    "attribute.ratio = 0.1",
    "attribute.ratio > 0.3",
    "attribute.vip = true",
    "attribute.renewal > 2026-04-01",
    "attribute.renewal within next 60 days",
    "has attribute.renewal",
    "not has attribute.seats",
    'attribute.label ~ "MAN"',
    # sets, organization, owner, consent
    'tag = "vip"',
    'tag in ("vip", "beta")',
    'tag != "vip"',
    'email ~ "EXAMPLE"',
    "has phone",
    'organization = "Acme"',
    'organization.domain = "acme.test"',
    'organization.attribute.tier = "gold"',
    'organization.tag = "key"',
    "has organization",
    'owner ~ "admin"',
    "consent(email, marketing)",
    "not consent(email, marketing)",
    # scores
    "clv > 10.00",
    "clv <= 10.005",
    "historical_clv >= 50.00",
    "revenue > 100.00",
    "average_order_value > 20.00",
    "average_order_value < 20.005",
    "p_alive < 0.5",
    "churn_probability > 0.2",
    "expected_purchases > 0.1",
    "r_score >= 3",
    "f_score = 1",
    "m_score in (4, 5)",
    "recency_days <= 30",
    "frequency > 1.5",
    "purchase_days = 2",
    'rfm_segment in ("Champions", "Loyal", "New", "Promising")',
    'value_tier = "premium"',
    'value_tier = "occasional"',
    "has clv",
    # NPS, stage, segment
    'nps = "promoter"',
    "nps_score < 7",
    "has nps",
    'stage = "Lapsed"',
    'stage in ("Active", "New")',
    "has stage",
    'segment = "Watched"',
    # event aggregates and windows
    "count(order) >= 2",
    "count(order) > 2.5",
    "count(order) = 0",
    "count(order, last 30 days) >= 1",
    "count(order, since 2026-04-01) = 1",
    "count(order, between 2026-03-31 and 2026-03-31) >= 1",
    "count(order, between 2026-03-31T23:59:59.999999Z and 2026-04-01T00:00:00Z) = 2",
    "count(any via web) > 0",
    'count("survey_answered") >= 1',
    "sum(order.amount) > 100.00",
    "sum(order.amount, last 6 months) < 50.005",
    "avg(order.amount) >= 42.00",
    "min(order.amount) < 12.345",
    "max(order.amount) > 10000000000",
    "first(order) < 2025-06-01T12:00:00.000001Z",
    "first(order) = 2026-03-31",
    "last(order) >= 2026-04-01",
    "last(order) > 2026-03-31T23:59:59.999999Z",
    "last(order) within 14 days",
    "last(any) within 2 weeks",
    # boolean structure
    '(tag = "vip" or attribute.plan = "free") and not count(order) = 0',
    'not (attribute.seats > 10 and tag != "vip") or has organization',
]


@dataclass
class Workspace:
    engine: Engine
    ids: dict[str, int]  # person name -> id

    def names(self) -> dict[int, str]:
        return {v: k for k, v in self.ids.items()}


def _build(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    def post(path: str, body: Any) -> Any:
        response = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    declared = {
        "person": {
            "plan": "text",
            "label": "text",
            "seats": "number",
            "ratio": "number",
            "renewal": "date",
            "vip": "boolean",
        },
        "organization": {"tier": "text"},
    }
    for entity, keys in declared.items():
        for key, kind in keys.items():
            post("/attributes", {"entity": entity, "key": key, "label": key, "type": kind})
    acme = post(
        "/organizations",
        {"name": "Acme", "domain": "acme.test", "tags": ["key"], "attributes": {"tier": "gold"}},
    )
    ids: dict[str, int] = {}
    for i, person in enumerate(PEOPLE):
        name = person["name"]
        body: dict[str, Any] = {
            "first_name": name,
            "identities": [{"kind": "email", "value": f"{name}@Example.com"}],
            "attributes": person["attributes"],
            "tags": ["vip"] if i % 4 == 0 else (["beta"] if i % 4 == 1 else []),
        }
        if i % 3 == 0:
            body["organization_id"] = acme["id"]
            body["job_title"] = "Buyer"
        if i % 5 == 0:
            body["identities"].append({"kind": "phone", "value": f"+4930123{i:04d}"})
        if i % 2 == 0:
            body["consents"] = [{"channel": "email", "purpose": "marketing", "status": "granted"}]
        ids[name] = post("/people", body)["id"]
    events: list[dict[str, Any]] = []
    for i, person in enumerate(PEOPLE):
        pid = ids[person["name"]]
        for n, (moment, amount, currency) in enumerate(person["orders"]):
            channel = "web" if n % 2 == 0 else "store"
            events.append(
                {
                    "type": "order",
                    "occurred_at": moment,
                    "person_id": pid,
                    "amount_minor": amount,
                    "currency": currency,
                    "channel": channel,
                    "client_event_id": f"o-{pid}-{n}",
                }
            )
        if i % 3 == 1:
            events.append(
                {
                    "type": "survey_answered",
                    "occurred_at": f"2026-0{1 + i % 3}-1{i % 10}T09:00:00+02:00",
                    "person_id": pid,
                    "payload": {"survey": "nps", "score": i % 11},
                }
            )
        if i % 4 == 2:
            events.append(
                {
                    "type": "email_opened",
                    "occurred_at": "2026-04-14T23:59:59.999999-01:00",
                    "person_id": pid,
                    "channel": "email",
                }
            )
    result = post("/events", events)
    assert not result.get("rejected"), result["rejected"]
    post("/segments", {"name": "Watched", "kind": "static", "person_ids": list(ids.values())[::3]})
    return ids


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Workspace]]:
    name = f"tenure_parity_{uuid.uuid4().hex[:10]}"
    urls = {
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('parity') / 'tenure.db'}",
        "postgresql": _create_postgres_database(name),
    }
    built: dict[str, Workspace] = {}
    try:
        for backend, url in urls.items():
            engine = create_db_engine(url)
            upgrade_database(engine)
            with Session(engine) as session:
                admin = make_api_user(session, "admin")
            settings = Settings(database_url=url, secret_key=TEST_SECRET)
            with TestClient(create_app(settings, engine)) as client:
                ids = _build(client, admin.headers)
                with warnings.catch_warnings():
                    # The BG/NBD backtest on this small calibration sample overflows in
                    # betageo._conditional (inf * 0, a known weakness reported apart);
                    # its report is not compared, the stored per-person scores are.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    refresh_scores(settings=settings, engine=engine, as_of=AS_OF)
                response = client.post(
                    "/api/v1/lifecycle/evaluate",
                    json={"person_ids": sorted(ids.values()), "as_of": AS_OF.isoformat()},
                    headers=admin.headers,
                )
                assert response.status_code == 200, response.text
            built[backend] = Workspace(engine, ids)
        yield built
    finally:
        for workspace in built.values():
            workspace.engine.dispose()
        _drop_postgres_database(name)


def _stages(client: TestClient, workspace: Workspace, headers: dict[str, str]) -> dict[str, Any]:
    stages = {}
    for name, pid in workspace.ids.items():
        response = client.get(f"/api/v1/lifecycle/people/{pid}", headers=headers)
        assert response.status_code == 200, response.text
        stages[name] = response.json()["stage"]
    return stages


def test_same_stages(workspaces: dict[str, Workspace]) -> None:
    seen = {}
    for backend, workspace in workspaces.items():
        settings = Settings(
            database_url=workspace.engine.url.render_as_string(hide_password=False),
            secret_key=TEST_SECRET,
        )
        with Session(workspace.engine) as session:
            admin = make_api_user(session, "analyst", scope="read")
        with TestClient(create_app(settings, workspace.engine)) as client:
            seen[backend] = _stages(client, workspace, admin.headers)
    assert seen["sqlite"] == seen["postgresql"]
    # The person whose orders are a microsecond apart is overdue, not Active.
    assert seen["sqlite"]["micro"] == "lapsed", seen["sqlite"]["micro"]


#: Everything stored per person but which run wrote it (refresh_id).
SCORE_COLUMNS = [
    c.name for c in PersonScore.__table__.columns if c.name not in ("person_id", "refresh_id")
]


def _scores(workspace: Workspace) -> dict[str, dict[str, Any]]:
    names = workspace.names()
    with Session(workspace.engine) as session:
        rows = session.execute(select(PersonScore)).scalars().all()
        return {
            names[row.person_id]: {column: getattr(row, column) for column in SCORE_COLUMNS}
            for row in rows
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def test_same_scores(workspaces: dict[str, Workspace]) -> None:
    sqlite, postgresql = _scores(workspaces["sqlite"]), _scores(workspaces["postgresql"])
    assert sqlite.keys() == postgresql.keys()
    assert len(sqlite) >= 25
    differences = [
        (name, column, sqlite[name][column], postgresql[name][column])
        for name in sorted(sqlite)
        for column in SCORE_COLUMNS
        if not _same(sqlite[name][column], postgresql[name][column])
    ]
    assert differences == []
    # The first purchase day of "midnight" holds its first order only: the mean repeat
    # value is of the two later orders, (90000 + 3000) / 2.
    assert sqlite["midnight"]["monetary_minor"] == 46_500


def _members(workspace: Workspace, text: str) -> set[str]:
    names = workspace.names()
    with Session(workspace.engine) as session:
        ctx = Context(dialect=workspace.engine.dialect.name, now=AS_OF)
        compiled = compile_filter(text, ctx)
        return {names[i] for i in session.execute(compiled.person_ids()).scalars() if i in names}


@pytest.mark.parametrize("text", FILTERS)
def test_same_members(workspaces: dict[str, Workspace], text: str) -> None:
    sqlite = _members(workspaces["sqlite"], text)
    postgresql = _members(workspaces["postgresql"], text)
    assert sqlite == postgresql


def test_big_numbers_compare_exactly(workspaces: dict[str, Workspace]) -> None:
    for workspace in workspaces.values():
        below = _members(workspace, "attribute.seats < 12345678901234567.5")
        assert {"micro", "zones"} <= below and "midnight" not in below
        assert _members(workspace, "attribute.seats = 12345678901234567") == {"micro"}
