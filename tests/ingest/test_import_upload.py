"""One import sequence for the API, the page and the CLI (``ingest.actions.import_upload``).

These tests run the real app on a fresh, committed database (not the rolled-back shared
connection): the bug they guard against was two sessions of one request fighting over the
database, which a single shared connection cannot show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.config import Settings
from tenure.customers.models import AttributeDefinition, Person
from tenure.db.engine import create_db_engine
from tenure.db.session import make_session_factory
from tenure.errors import PermissionDenied
from tenure.identity.models import Role
from tenure.identity.permissions import Actor
from tenure.ingest.actions import import_upload
from tenure.ingest.csv_import import bytes_opener
from tenure.ingest.models import Import
from tenure.web.app import create_app
from tests.conftest import TEST_SECRET, make_api_user

DATA = Path(__file__).parent / "data"


@pytest.fixture
def live(fresh_database_url: str) -> Iterator[tuple[TestClient, object, object]]:
    engine = create_db_engine(fresh_database_url)
    settings = Settings(database_url=fresh_database_url, secret_key=TEST_SECRET)
    factory = make_session_factory(engine)
    with factory() as session:
        admin = make_api_user(session, "admin")
    with TestClient(create_app(settings, engine)) as client:
        yield client, admin, factory
    engine.dispose()


def test_csv_upload_with_declare_imports_and_declares(live):
    client, admin, factory = live
    with (DATA / "contacts.csv").open("rb") as handle:
        response = client.post(
            "/api/v1/imports/csv",
            files={"file": ("contacts.csv", handle, "text/csv")},
            data={"mapping": '{"Plan": "attribute:plan"}', "declare": "plan"},
            headers=admin.headers,
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert body["counts"]["created"] >= 2
    with factory() as session:
        definition = session.scalars(
            select(AttributeDefinition).where(AttributeDefinition.key == "plan")
        ).one()
        assert definition.type == "text"
        ada = session.scalars(
            select(Person).where(Person.first_name == "Ada", Person.last_name == "Lovelace")
        ).one()
        assert ada.attributes["plan"] == "pro"


def test_declare_in_a_dry_run_declares_nothing(live):
    client, admin, factory = live
    with (DATA / "contacts.csv").open("rb") as handle:
        response = client.post(
            "/api/v1/imports/csv",
            files={"file": ("contacts.csv", handle, "text/csv")},
            data={"mapping": '{"Plan": "attribute:plan"}', "declare": "plan", "dry_run": "true"},
            headers=admin.headers,
        )
    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    with factory() as session:
        assert (
            session.scalars(
                select(AttributeDefinition).where(AttributeDefinition.key == "plan")
            ).first()
            is None
        )
        assert session.scalars(select(Import)).first() is None


def test_an_analyst_cannot_import_through_the_action(live):
    _, _, factory = live
    analyst = Actor(user_id=1, email="a@example.com", role=Role.analyst)
    with pytest.raises(PermissionDenied):
        import_upload(
            session_factory=factory,
            actor=analyst,
            format="csv",
            opener=bytes_opener((DATA / "contacts.csv").read_bytes()),
            file_name="contacts.csv",
            default_region="US",
        )
    with factory() as session:
        assert session.scalars(select(Import)).first() is None
