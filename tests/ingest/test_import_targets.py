"""The import page's column targets: a built-in attribute the workspace also declared is
offered once, under the workspace's label (the demo declares Country, City...)."""

from __future__ import annotations

import re

from tenure.customers.actions import define_attribute
from tenure.customers.schemas import AttributeDefinitionCreate
from tenure.identity.actions import create_user
from tests.pages import csrf_token, log_in

PASSWORD = "pass-word-123"
CSV = b"Email,Country,Plan\nada@example.com,France,pro\n"


def _options(html: str, header: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of the target picker of one column."""
    select = re.search(rf'<select name="map:{header}"[^>]*>(.*?)</select>', html, flags=re.DOTALL)
    assert select, f"no target picker for {header}"
    return [
        (value, label.strip(), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)" (selected)?\s*>([^<]*)</option>', select.group(1)
        )
    ]


def test_a_declared_builtin_attribute_is_one_target_under_its_label(client, session) -> None:
    create_user(session=session, email="ops@example.com", role="admin", password=PASSWORD)
    define_attribute(
        session=session,
        data=AttributeDefinitionCreate(key="country", label="Country of residence", type="text"),
        actor_id=None,
    )
    define_attribute(
        session=session,
        data=AttributeDefinitionCreate(key="loyalty_id", label="Loyalty card", type="text"),
        actor_id=None,
    )
    session.commit()
    log_in(client, "ops@example.com", PASSWORD)
    token = csrf_token(client.get("/imports").text)

    uploaded = client.post(
        "/imports",
        data={"csrf_token": token, "preset": ""},
        files={"file": ("customers.csv", CSV, "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = client.get(uploaded.headers["location"])
    assert page.status_code == 200

    options = _options(page.text, "Country")
    labels = [label for _, label, _ in options]
    # The built-in target (normalized to an ISO code) under the declared label, once.
    assert ("country", "Attribute: Country of residence", True) in options
    assert not any(value == "attribute:country" for value, _, _ in options)
    assert len([label for label in labels if "ountry" in label]) == 1
    # A declared attribute that is no built-in keeps its own entry.
    assert ("attribute:loyalty_id", "Attribute: Loyalty card", False) in options
    # Other built-ins keep their plain names.
    assert ("city", "Attribute: city", False) in options
