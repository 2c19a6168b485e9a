"""The demo's workflows: published with a holdout, people enrolled as the log happened,
their steps run, so the report and the per-step counts have numbers."""

from __future__ import annotations

from sqlalchemy import func, select

from tenure.automation.models import Enrolment, EnrolmentStep, Workflow
from tenure.automation.report import control_report
from tenure.config import Settings
from tenure.datasets.demo import build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory


def test_the_demo_has_workflows_with_history(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=400)
    with make_session_factory(engine)() as session:
        status = dict(session.execute(select(Workflow.name, Workflow.status)).all())
        assert status == {
            "Win back at-risk customers": "active",
            "Welcome first-time buyers": "active",
            "Renewal reminder": "draft",
        }
        win_back = session.scalar(
            select(Workflow.id).where(Workflow.name == "Win back at-risk customers")
        )
        entered = session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.workflow_id == win_back)
        )
        ran = session.scalar(
            select(func.count())
            .select_from(EnrolmentStep)
            .join(Enrolment, Enrolment.id == EnrolmentStep.enrolment_id)
            .where(Enrolment.workflow_id == win_back, EnrolmentStep.state != "pending")
        )
        report = control_report(session, win_back)
    engine.dispose()
    assert entered and ran
    assert report["window_days"] == 17 and report["goal"] == "order"
    assert report["enrolled"]["people"] + report["enrolled"]["open"] > 0
    assert [row["step_id"] for row in report["funnel"]][:2] == ["wait-3", "win-back"]
