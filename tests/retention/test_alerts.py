"""Risk from signals, value-at-risk ordering, and alerts once per episode with hysteresis."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from tenure.customers.models import Task
from tenure.errors import InvalidInput
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry, Role
from tenure.identity.permissions import Actor
from tenure.retention.actions import refresh_retention, update_settings
from tenure.retention.models import RetentionAlert
from tenure.retention.queries import at_risk, person_risk
from tenure.retention.risk import combine
from tenure.retention.schemas import RetentionConfigPatch
from tenure.retention.signals import Signal

from .history import AS_OF, add_event, person, score


def test_noisy_or_combination_and_reasons_strongest_first():
    # Given an overdue purchase at strength 0.95 and an NPS of 3 (strength 0.75)
    signals = [
        Signal("detractor", 0.75, "NPS 3 on 2024-10-02"),
        Signal("overdue", 0.95, "orders every ~6 weeks, none for 19 weeks"),
    ]
    # When combined with the default weights (overdue 0.55, detractor 0.50)
    risk, reasons = combine(signals)
    # Then risk = 1 - (1 - 0.55 x 0.95)(1 - 0.50 x 0.75), by hand 0.6734
    np.testing.assert_allclose(risk, 1 - (1 - 0.5225) * (1 - 0.375), rtol=1e-12)
    assert [r["text"] for r in reasons] == [
        "orders every ~6 weeks, none for 19 weeks",
        "NPS 3 on 2024-10-02",
    ]
    assert [r["contribution"] for r in reasons] == [0.5225, 0.375]
    assert combine([]) == (0.0, [])
    # Weights are the team's: a signal weighted 0 contributes nothing
    assert combine(signals, {"overdue": 0.0})[0] == pytest.approx(0.375)


def _complaints(session, person_id, *days_before):
    for days in days_before:
        add_event(session, person_id, AS_OF - timedelta(days=days), "complaint")


def test_value_at_risk_orders_the_list(session):
    # Given three customers with complaints (risk from 1, 2, 3 complaints) and CLVs
    small_risk_big_value, big_risk_small_value, middle = (person(session) for _ in range(3))
    _complaints(session, small_risk_big_value, 1)  # risk 0.6 x 0.6 = 0.36
    _complaints(session, big_risk_small_value, 1, 2, 3)  # 0.6 x (1 - 0.4^3) = 0.5616
    _complaints(session, middle, 1, 2)  # 0.6 x 0.84 = 0.504
    score(session, small_risk_big_value, clv_minor=100_000)  # value at risk 36,000
    score(session, big_risk_small_value, clv_minor=20_000)  # 11,232
    score(session, middle, clv_minor=50_000)  # 25,200
    unscored = person(session)  # no scores: value unknown, 0 at risk
    _complaints(session, unscored, 1, 2, 3)

    # When the refresh runs
    refresh_retention(session=session, as_of=AS_OF)

    # Then the list is by CLV x risk, highest first, and pages by keyset
    first, cursor = at_risk(session, limit=2)
    rest, end = at_risk(session, cursor=cursor, limit=2)
    ordered = [i["person_id"] for i in first + rest]
    assert ordered == [small_risk_big_value, middle, big_risk_small_value, unscored]
    assert [i["value_at_risk_minor"] for i in first + rest] == [36_000, 25_200, 11_232, 0]
    assert end is None
    assert first[0]["reasons"][0]["text"] == "1 complaint in 30 days (last on 2024-10-30)"
    assert [i["person_id"] for i in at_risk(session, min_risk=0.5)[0]] == [
        middle,
        big_risk_small_value,
        unscored,
    ]


def test_alert_once_per_episode_with_hysteresis(session):
    # Given a valuable customer owned by Maria, a valuable customer without an owner, a
    # fallback owner, and less valuable customers (the top 20% by CLV are valuable)
    maria = create_user(
        session=session, email="maria@example.com", role="sales", password="pw-123456", name="Maria"
    )
    sam = create_user(
        session=session, email="sam@example.com", role="manager", password="pw-123456", name="Sam"
    )
    owned = person(session, "Olga Owned", owner_id=maria.id)
    orphan = person(session, "Otto Orphan")
    score(session, owned, clv_minor=90_000)
    score(session, orphan, clv_minor=80_000)
    for i in range(8):
        score(session, person(session, f"Small {i}"), clv_minor=1_000 + i)
    update_settings(
        session=session,
        patch=RetentionConfigPatch(fallback_owner_id=sam.id),
        actor=Actor(user_id=sam.id, email=sam.email, role=Role.manager),
    )
    # Complaints count for 30 days: 3 complaints give risk 0.56 (>= 0.5 alerts), 1 gives
    # 0.36 (between the clearing threshold 0.3 and 0.5), none gives 0.
    day0 = AS_OF
    for who in (owned, orphan):
        for days in (1, 20, 25):
            add_event(session, who, day0 - timedelta(days=days), "complaint")

    def tasks_of(person_id):
        return session.scalars(
            select(Task).where(Task.person_id == person_id).order_by(Task.id)
        ).all()

    # When the refresh runs nightly
    first = refresh_retention(session=session, as_of=day0)
    # Then each crosses the threshold once: one episode and one task each
    assert (first.alerts.opened, first.alerts.tasks) == (2, 2)
    [task] = tasks_of(owned)
    assert task.assignee_id == maria.id
    assert task.title == "Retention risk: Olga Owned (56% risk, 12-month value 900.00 USD)"
    assert "- 3 complaints in 30 days (last on 2024-10-30)" in task.description
    assert "value at risk 505.44 USD" in task.description
    assert tasks_of(orphan)[0].assignee_id == sam.id  # no owner: the fallback

    # The next night, still above: nothing new
    second = refresh_retention(session=session, as_of=day0 + timedelta(days=1))
    assert (second.alerts.opened, second.alerts.tasks, second.alerts.closed) == (0, 0, 0)

    # Two of the complaints age out (risk 0.36): below the threshold, above the clearing
    # threshold, so the episode stays open and nothing fires
    third = refresh_retention(session=session, as_of=day0 + timedelta(days=25))
    assert person_risk(session, owned)["risk"] == pytest.approx(0.36)
    assert (third.alerts.opened, third.alerts.closed, third.alerts.tasks) == (0, 0, 0)

    # A new complaint pushes it back over 0.5: same episode, still no second task
    add_event(session, owned, day0 + timedelta(days=26), "complaint")
    fourth = refresh_retention(session=session, as_of=day0 + timedelta(days=27))
    assert (fourth.alerts.opened, fourth.alerts.tasks) == (0, 0)
    assert len(tasks_of(owned)) == 1

    # All complaints age out: the episodes end
    fifth = refresh_retention(session=session, as_of=day0 + timedelta(days=90))
    assert fifth.alerts.closed == 2
    assert person_risk(session, owned)["open_alert"] is None

    # A new episode later alerts again, once
    for days in (91, 92, 93):
        add_event(session, owned, day0 + timedelta(days=days), "complaint")
    sixth = refresh_retention(session=session, as_of=day0 + timedelta(days=94))
    assert (sixth.alerts.opened, sixth.alerts.tasks) == (1, 1)
    assert len(tasks_of(owned)) == 2
    episodes = session.scalars(
        select(RetentionAlert).where(RetentionAlert.person_id == owned).order_by(RetentionAlert.id)
    ).all()
    assert [e.closed_at is None for e in episodes] == [False, True]
    assert episodes[0].peak_risk == pytest.approx(0.6 * (1 - 0.4**3))
    # Every task is in the audit log, created by the system (no actor)
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "task", AuditEntry.action == "create")
    ).all()
    assert {a.entity_id for a in audited} >= {str(t.id) for t in tasks_of(owned)}
    assert all(a.actor_id is None for a in audited)


def test_customers_below_the_value_quantile_get_no_task_until_they_qualify(session):
    # Given a customer at risk whose CLV is below the top 20%
    customer = person(session, "Vera Value")
    score(session, customer, clv_minor=5_000)
    for i in range(4):
        score(session, person(session, f"Rich {i}"), clv_minor=50_000 + i)
    for days in (1, 2, 3):
        add_event(session, customer, AS_OF - timedelta(days=days), "complaint")

    first = refresh_retention(session=session, as_of=AS_OF)
    # Then the episode opens without a task
    assert (first.alerts.opened, first.alerts.tasks) == (1, 0)

    # When the team lowers the value quantile, the open episode gets its one task
    update_settings(session=session, patch=RetentionConfigPatch(value_quantile=0.0), actor=None)
    second = refresh_retention(session=session, as_of=AS_OF)
    assert (second.alerts.opened, second.alerts.tasks) == (0, 1)
    third = refresh_retention(session=session, as_of=AS_OF)
    assert third.alerts.tasks == 0


def test_settings_are_validated_and_audited(session):
    with pytest.raises(InvalidInput) as error:
        update_settings(
            session=session, patch=RetentionConfigPatch(clear_threshold=0.7), actor=None
        )
    assert "lower than risk_threshold" in error.value.reason
    with pytest.raises(InvalidInput):
        update_settings(
            session=session, patch=RetentionConfigPatch(fallback_owner_id=999_999), actor=None
        )
    with pytest.raises(InvalidInput):
        update_settings(
            session=session, patch=RetentionConfigPatch(weights={"mood": 0.5}), actor=None
        )
    config = update_settings(
        session=session,
        patch=RetentionConfigPatch(risk_threshold=0.6, weights={"complaint": 0.9}),
        actor=None,
    )
    assert config.weights["complaint"] == 0.9 and config.weights["overdue"] == 0.55
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "retention_settings")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.changes["risk_threshold"] == {"before": 0.5, "after": 0.6}


def test_an_analyst_owners_customer_goes_to_the_fallback(session):
    """A read-only owner cannot do a task: the alert goes to the fallback owner instead."""
    ana = create_user(
        session=session, email="ana@example.com", role="analyst", password="pw-123456", name="Ana"
    )
    sam = create_user(
        session=session, email="sam@example.com", role="manager", password="pw-123456", name="Sam"
    )
    watched = person(session, "Wanda Watched", owner_id=ana.id)
    score(session, watched, clv_minor=90_000)
    for i in range(8):
        score(session, person(session, f"Small {i}"), clv_minor=1_000 + i)
    manager = Actor(user_id=sam.id, email=sam.email, role=Role.manager)
    with pytest.raises(InvalidInput, match="read-only"):
        update_settings(
            session=session, patch=RetentionConfigPatch(fallback_owner_id=ana.id), actor=manager
        )
    update_settings(
        session=session, patch=RetentionConfigPatch(fallback_owner_id=sam.id), actor=manager
    )
    for days in (1, 20, 25):
        add_event(session, watched, AS_OF - timedelta(days=days), "complaint")

    report = refresh_retention(session=session, as_of=AS_OF)

    assert report.alerts.tasks == 1
    [task] = session.scalars(select(Task).where(Task.person_id == watched)).all()
    assert task.assignee_id == sam.id
