"""One CSRF dependency guards every form of the pages (web.security.require_csrf)."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from sqlalchemy import select

from tenure.lifecycle.models import LifecycleStage
from tenure.web.pages import page_routers
from tests.pages import csrf_token, log_in_as


def test_every_unsafe_page_route_refuses_a_request_without_the_token(client):
    unsafe = [
        (method, route.path)
        for router in page_routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods & {"POST", "PUT", "PATCH", "DELETE"})
    ]
    assert len(unsafe) >= 26
    for method, path in unsafe:
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method, url, data={"x": "1"}, follow_redirects=False)
        assert response.status_code == 403, f"{method} {path}: {response.status_code}"


def test_a_form_without_the_token_changes_nothing(client, session):
    log_in_as(client, session, "admin", email="ed@example.com", password="ed-pass-123")
    form = {"key": "vip", "name": "VIP", "in_funnel": "on"}

    missing = client.post("/lifecycle/settings/stages", data=form, follow_redirects=False)
    stale = client.post(
        "/lifecycle/settings/stages", data={**form, "csrf_token": "x"}, follow_redirects=False
    )
    assert (missing.status_code, stale.status_code) == (403, 403)
    vip = select(LifecycleStage).where(LifecycleStage.key == "vip")
    assert session.scalars(vip).first() is None

    token = csrf_token(client.get("/lifecycle/settings").text)
    ok = client.post(
        "/lifecycle/settings/stages", data={**form, "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303, ok.text
    assert session.scalars(vip).one().name == "VIP"
