"""The template pages through the real app: a refused save names each problem and line
and keeps the text; the preview answers JSON; read-only roles see no form to save."""

from __future__ import annotations

from tenure.messaging.templating import queries
from tests.pages import csrf_token, log_in_as

from .customers import grace_with_history

PASSWORD = "pass-word-123"


def test_create_refused_then_saved_then_previewed(client, session):
    log_in_as(client, session, "marketing", password=PASSWORD)
    token = csrf_token(client.get("/templates/new").text)
    form = {
        "csrf_token": token,
        "name": "Hello",
        "purpose": "marketing",
        "description": "",
        "subject": "Hi {{ person.first_name }}",
        "html": "<p>Hi</p>\n<p>{{ person.nmae }}</p>",
    }
    refused = client.post("/templates/new", data=form)
    assert refused.status_code == 422
    assert "html, line 2: unknown field person.nmae (did you mean name?)" in refused.text
    assert "{{ person.nmae }}" in refused.text  # the author's text is kept

    saved = client.post(
        "/templates/new",
        data={**form, "html": "<p>Hi {{ person.name }}</p>"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    template_id = int(saved.headers["location"].split("/")[2].split("?")[0])
    assert queries.get_template(session, template_id)["version"]["number"] == 1

    grace = grace_with_history(session)
    session.commit()
    preview = client.post(
        "/templates/preview",
        data={
            "csrf_token": token,
            "subject": form["subject"],
            "html": "<p>{{ person.name }}</p>",
            "person_id": str(grace),
        },
    )
    assert preview.status_code == 200
    assert preview.json()["subject"] == "Hi Grace"
    no_person = client.post(
        "/templates/preview", data={"csrf_token": token, "subject": "s", "html": "<p>x</p>"}
    )
    assert no_person.status_code == 422
    assert no_person.json()["errors"][0]["reason"] == "choose a person to preview with"
    found = client.get("/templates/people?q=Hopper").json()["items"]
    assert [p["id"] for p in found] == [grace]
    # Without the CSRF token the preview (a POST) is refused
    assert client.post("/templates/preview", data={"subject": "s", "html": "x"}).status_code == 403


def test_an_analyst_reads_but_cannot_save(client, session):
    log_in_as(client, session, "analyst", password=PASSWORD)
    listing = client.get("/templates")
    assert listing.status_code == 200 and "Welcome" in listing.text
    assert "New template" not in listing.text
    template_id = queries.list_templates(session)[0]["id"]
    page = client.get(f"/templates/{template_id}")
    assert "Save new version" not in page.text and 'id="read-only"' in page.text
    refused = client.post(
        f"/templates/{template_id}",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "x",
            "purpose": "marketing",
            "subject": "s",
            "html": "<p>x</p>",
        },
    )
    assert refused.status_code == 403
    assert queries.get_template(session, template_id)["version"]["number"] == 1
