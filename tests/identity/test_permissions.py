"""Role rules are checked by the actions, so a new entry point cannot forget them.

Each test calls an action directly, as a job or a new page would, with an actor who may not
do it, and checks it is refused and nothing changed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenure.errors import PermissionDenied
from tenure.identity.actions import create_user
from tenure.identity.models import AuditEntry, Role, TokenScope
from tenure.identity.permissions import MODEL_EDITORS, SETTINGS_EDITORS, Actor, authorize, may
from tenure.lifecycle import configure
from tenure.lifecycle.models import LifecycleStage
from tenure.lifecycle.schemas import StageIn
from tenure.retention.actions import load_config, update_settings
from tenure.retention.schemas import RetentionConfigPatch
from tenure.segments.actions import create_segment
from tenure.segments.models import Segment
from tenure.segments.schemas import SegmentCreate

ANALYST = Actor(user_id=1, email="analyst@example.com", role=Role.analyst)
SALES = Actor(user_id=2, email="sales@example.com", role=Role.sales)
MANAGER = Actor(user_id=3, email="manager@example.com", role=Role.manager)
MANAGER_READ_TOKEN = Actor(
    user_id=3, email="manager@example.com", role=Role.manager, scope=TokenScope.read
)


def _audits(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("actor", [ANALYST, SALES, MANAGER_READ_TOKEN])
def test_who_may_not_edit_the_stage_model_is_refused_by_the_action(session, actor):
    before = _audits(session)
    with pytest.raises(PermissionDenied):
        configure.create_stage(session=session, data=StageIn(key="vip", name="VIP"), actor=actor)
    assert (
        session.scalars(select(LifecycleStage).where(LifecycleStage.key == "vip")).first() is None
    )
    assert _audits(session) == before


def test_a_model_editor_edits_and_is_audited(session):
    user = create_user(
        session=session, email="editor@example.com", role="marketing", password="pw-123456"
    )
    editor = Actor(user_id=user.id, email=user.email, role=Role.marketing)
    configure.create_stage(session=session, data=StageIn(key="vip", name="VIP"), actor=editor)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "lifecycle_stage")
    ).one()
    assert (entry.actor_id, entry.entity_id, entry.action) == (user.id, "vip", "create")


@pytest.mark.parametrize("actor", [ANALYST, SALES])
def test_who_may_not_tune_retention_is_refused_by_the_action(session, actor):
    before = load_config(session)
    with pytest.raises(PermissionDenied):
        update_settings(
            session=session, patch=RetentionConfigPatch(risk_threshold=0.9), actor=actor
        )
    assert load_config(session) == before


def test_may_tells_pages_what_to_hide():
    assert may(MANAGER, MODEL_EDITORS) and may(MANAGER, SETTINGS_EDITORS)
    assert not may(SALES, MODEL_EDITORS) and may(SALES)
    assert not may(ANALYST) and not may(MANAGER_READ_TOKEN)


def test_the_command_line_operator_is_not_checked_and_audits_no_user():
    assert authorize(None, MODEL_EDITORS) is None
    assert authorize(MANAGER, SETTINGS_EDITORS) == MANAGER.user_id


def test_an_analyst_cannot_create_a_segment_through_the_action(session):
    with pytest.raises(PermissionDenied):
        create_segment(
            session=session,
            data=SegmentCreate(name="Nobody", kind="static", person_ids=[]),
            actor=ANALYST,
            currency="USD",
        )
    assert session.scalars(select(Segment).where(Segment.name == "Nobody")).first() is None
