"""The segment pages through the real app with a logged-in session (forms and CSRF)."""

from __future__ import annotations

import pytest

from tests.pages import csrf_token, log_in_as

from .conftest import World, build_world


@pytest.fixture
def logged_in(client, session) -> World:
    world = build_world(session)
    log_in_as(client, session, "marketing", email="mk@example.com", password="mk-pass-123")
    return world


def test_build_a_segment_from_the_pages(client, logged_in):
    listing = client.get("/segments")
    assert listing.status_code == 200
    assert 'href="/segments"' in listing.text and "Champions" in listing.text

    builder = client.get("/segments/new")
    assert builder.status_code == 200 and 'id="live-count"' in builder.text
    token = csrf_token(builder.text)

    # The live count endpoint answers JSON, and a 422 with the position
    assert client.get("/segments/preview", params={"filter": 'tag = "vip"'}).json()["count"] == 2
    bad = client.get("/segments/preview", params={"filter": "tag = vip"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["position"] == 6

    # A bad filter re-renders the builder with the error and keeps the text
    rejected = client.post(
        "/segments/new",
        data={"csrf_token": token, "name": "VIPs", "kind": "dynamic", "filter": "tag = vip"},
    )
    assert rejected.status_code == 422
    assert "at position 6" in rejected.text and "tag = vip" in rejected.text

    created = client.post(
        "/segments/new",
        data={"csrf_token": token, "name": "VIPs", "kind": "dynamic", "filter": 'tag = "vip"'},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert "Ada" in page.text and "Cy" in page.text
    assert 'id="chart-size"' in page.text and "segment-history" in page.text

    segment_url = created.headers["location"]
    refreshed = client.post(
        f"{segment_url}/refresh", data={"csrf_token": token}, follow_redirects=False
    )
    assert refreshed.status_code == 303
    export = client.get(f"{segment_url}/export.csv")
    assert export.text.count("\r\n") == 3

    edit = client.post(
        f"{segment_url}/edit",
        data={"csrf_token": token, "name": "Phones", "filter": "has phone"},
        follow_redirects=False,
    )
    assert edit.status_code == 303
    assert "Bob" in client.get(segment_url).text

    deleted = client.post(
        f"{segment_url}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert deleted.status_code == 303 and client.get(segment_url).status_code == 404


def test_static_list_pages(client, logged_in):
    token = csrf_token(client.get("/segments/new").text)
    ids = logged_in.ids
    created = client.post(
        "/segments/new",
        data={
            "csrf_token": token,
            "name": "Board",
            "kind": "static",
            "person_ids": f"{ids['ada']}, {ids['bob']}",
        },
        follow_redirects=False,
    )
    url = created.headers["location"]
    client.post(f"{url}/members", data={"csrf_token": token, "add": str(ids["dee"])})
    client.post(f"{url}/members", data={"csrf_token": token, "remove": str(ids["ada"])})
    text = client.get(url).text
    assert "Bob" in text and "Dee" in text and "Ada" not in text
    forged = client.post(f"{url}/members", data={"csrf_token": "x", "add": str(ids["ada"])})
    assert forged.status_code == 403
