"""The demo carries the template library, and each renders for a demo customer."""

from __future__ import annotations

from sqlalchemy import select

from tenure.config import Settings
from tenure.datasets.demo import build_demo_workspace
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.messaging.templating import queries
from tenure.messaging.templating.library import LIBRARY
from tenure.messaging.templating.render import render_template
from tenure.timeline.models import Event


def test_the_demo_has_the_library_and_it_renders(fresh_database_url) -> None:
    engine = create_db_engine(fresh_database_url)
    build_demo_workspace(engine=engine, settings=Settings(), size=40)
    with make_session_factory(engine)() as session:
        templates = queries.list_templates(session)
        buyer = session.scalar(select(Event.person_id).where(Event.type == "order").limit(1))
        assert buyer is not None
        rendered = {
            t["library_key"]: render_template(session, t["version"]["id"], buyer) for t in templates
        }
    engine.dispose()
    assert sorted(rendered) == sorted(entry.key for entry in LIBRARY)
    assert "Demo: CDNOW" in rendered["welcome"].subject
    assert all(email.text.strip() and "<" not in email.text for email in rendered.values())
