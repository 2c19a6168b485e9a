"""The people list as views: sorting in SQL with a stable tie-breaker across pages, saved
views per user and shared, and the export of a view (CSV, XLSX) in its columns and order."""

from __future__ import annotations

import csv
import io
import re
import uuid

import openpyxl
import pytest
from sqlalchemy.orm import Session

from tenure.customers.queries import PeopleFilter
from tenure.lists.columns import parse_columns, parse_sort
from tenure.lists.queries import View, view_page
from tests.pages import csrf_token, log_in

ORDERS = {"Ann": 3, "Bob": 1, "Cy": 3, "Di": 0, "=HYPERLINK(1)": 2}


@pytest.fixture
def people(client, admin) -> dict[str, int]:
    """Five people tagged with a fresh tag, with 3, 1, 3, 0 and 2 orders."""
    tag = f"view-{uuid.uuid4().hex[:6]}"
    ids = {}
    for first, count in ORDERS.items():
        body = {
            "first_name": first,
            "last_name": "Viewtest",
            "tags": [tag],
            "identities": [{"kind": "email", "value": f"{uuid.uuid4().hex[:8]}@example.com"}],
        }
        response = client.post("/api/v1/people", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        ids[first] = response.json()["id"]
        events = [
            {
                "type": "order",
                "occurred_at": f"2026-01-0{n + 1}T10:00:00Z",
                "person_id": ids[first],
                "amount_minor": 1000,
                "currency": "USD",
            }
            for n in range(count)
        ]
        if events:
            sent = client.post("/api/v1/events", json=events, headers=admin.headers)
            assert sent.status_code == 200, sent.text
    ids["tag"] = tag  # type: ignore[assignment]
    return ids


def _expected_by_orders(people: dict) -> list[str]:
    # Orders descending, ties broken by id descending (the keyset's tie-breaker)
    names = [n for n in ORDERS]
    return sorted(names, key=lambda n: (ORDERS[n], people[n]), reverse=True)


def test_pages_keep_the_sort_and_never_repeat_a_tie(session: Session, people):
    view = View(
        filters=PeopleFilter(tag=people["tag"]),
        columns=parse_columns(["name", "orders"]),
        sort=parse_sort("-orders"),
    )
    seen, cursor = [], None
    while True:
        page = view_page(session, view, cursor=cursor, limit=2)
        seen.extend(page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [r["first_name"] for r in seen] == _expected_by_orders(people)
    assert [r["orders"] for r in seen] == [3, 3, 2, 1, 0]

    ascending = view_page(
        session,
        View(filters=view.filters, columns=view.columns, sort=parse_sort("name")),
        limit=10,
    )
    names = [r["first_name"] for r in ascending.rows]
    assert names == sorted(names, key=str.lower)


@pytest.mark.parametrize("sort", ["last_order", "-last_order", "email", "-churn_risk", "stage"])
def test_every_sortable_column_pages_through_nulls(session: Session, people, sort):
    view = View(
        filters=PeopleFilter(tag=people["tag"]),
        columns=parse_columns(["name", "last_order", "churn_risk", "stage", "revenue"]),
        sort=parse_sort(sort),
    )
    seen, cursor = [], None
    while True:
        page = view_page(session, view, cursor=cursor, limit=2)
        seen.extend(r["id"] for r in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(v for k, v in people.items() if k != "tag")


def test_bad_columns_and_sorts_are_422_naming_the_field(client, admin):
    bad_sort = client.post(
        "/api/v1/views", json={"name": "x", "sort": "-tags"}, headers=admin.headers
    )
    assert bad_sort.status_code == 422 and bad_sort.json()["errors"][0]["field"] == "sort"
    bad_column = client.post(
        "/api/v1/views", json={"name": "x", "columns": ["salary"]}, headers=admin.headers
    )
    assert bad_column.status_code == 422
    assert bad_column.json()["errors"][0]["field"] == "columns"


def test_views_are_per_user_unless_shared(client, api_user):
    ana, ben, analyst = api_user("sales"), api_user("marketing"), api_user("analyst")
    mine = client.post(
        "/api/v1/views", json={"name": "My VIPs", "filters": {"tag": "vip"}}, headers=ana.headers
    )
    assert mine.status_code == 201, mine.text
    shared = client.post(
        "/api/v1/views",
        json={
            "name": "Team list",
            "shared": True,
            "columns": ["name", "orders"],
            "sort": "-orders",
        },
        headers=ana.headers,
    )
    assert shared.status_code == 201

    def names(user):
        return {v["name"] for v in client.get("/api/v1/views", headers=user.headers).json()}

    assert {"My VIPs", "Team list"} <= names(ana)
    assert "Team list" in names(ben) and "My VIPs" not in names(ben)
    hidden = client.get(f"/api/v1/views/{mine.json()['id']}/export", headers=ben.headers)
    assert hidden.status_code == 404
    refused = client.delete(f"/api/v1/views/{shared.json()['id']}", headers=ben.headers)
    assert refused.status_code == 403

    # An analyst keeps views of their own, but does not share them with everyone
    private = client.post("/api/v1/views", json={"name": "Mine"}, headers=analyst.headers)
    assert private.status_code == 201
    share = client.post(
        "/api/v1/views", json={"name": "Ours", "shared": True}, headers=analyst.headers
    )
    assert share.status_code == 403
    again = client.post("/api/v1/views", json={"name": "My VIPs"}, headers=ana.headers)
    assert again.status_code == 409 and again.json()["field"] == "name"
    assert (
        client.delete(f"/api/v1/views/{mine.json()['id']}", headers=ana.headers).status_code == 204
    )
    assert "My VIPs" not in names(ana)


def test_the_export_has_the_view_columns_in_its_order(client, admin, people):
    body = {
        "name": f"by orders {people['tag']}",
        "filters": {"tag": people["tag"]},
        "columns": ["orders", "name", "email", "revenue", "churn_risk"],
        "sort": "-orders",
    }
    view = client.post("/api/v1/views", json=body, headers=admin.headers)
    assert view.status_code == 201, view.text
    view_id = view.json()["id"]

    response = client.get(f"/api/v1/views/{view_id}/export?format=csv", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    # Registry order, money with its currency
    assert rows[0] == ["Name", "Email", "Revenue", "Revenue currency", "Orders", "Churn risk"]
    expected = _expected_by_orders(people)
    shown = [r[0].removeprefix("'").removesuffix(" Viewtest") for r in rows[1:]]
    assert shown == expected
    assert [int(r[4]) for r in rows[1:]] == sorted(ORDERS.values(), reverse=True)
    evil = next(r for r in rows[1:] if "HYPERLINK" in r[0])
    assert evil[0] == "'=HYPERLINK(1) Viewtest"  # formula cells escaped
    assert all(r[2] == "" and r[5] == "" for r in rows[1:])  # no scores yet

    xlsx = client.get(f"/api/v1/views/{view_id}/export?format=xlsx", headers=admin.headers)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == rows[0]
    assert [c[0].removeprefix("'").removesuffix(" Viewtest") for c in cells[1:]] == expected
    assert [c[4] for c in cells[1:]] == sorted(ORDERS.values(), reverse=True)
    assert cells[1 + expected.index("=HYPERLINK(1)")][0].startswith("'=")  # no formula


def test_the_page_sorts_saves_opens_and_exports_the_view(client, session, people, api_user):
    rep = api_user("sales")
    log_in(client, rep.email, "correct horse 1")
    url = f"/people?tag={people['tag']}&columns=name,orders&sort=-orders"
    page = client.get(url)
    assert page.status_code == 200
    order = re.findall(r'<tr data-person-id="(\d+)"', page.text)
    assert [int(i) for i in order] == [people[n] for n in _expected_by_orders(people)]
    assert re.findall(r'<th data-column="(\w+)"', page.text) == ["name", "orders"]

    saved = client.post(
        "/people/views",
        data={
            "csrf_token": csrf_token(page.text),
            "name": "Busy buyers",
            "tag": people["tag"],
            "columns": "name,orders",
            "sort": "-orders",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    view_id = int(re.search(r"view=(\d+)", saved.headers["location"]).group(1))
    opened = client.get(f"/people?view={view_id}", follow_redirects=False)
    assert opened.status_code == 303
    assert "sort=-orders" in opened.headers["location"]
    assert "columns=name%2Corders" in opened.headers["location"]

    export = client.get(f"/people/export.csv?tag={people['tag']}&columns=name,orders&sort=-orders")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["Name", "Orders"]
    assert [r[1] for r in rows[1:]] == ["3", "3", "2", "1", "0"]
    bogus = client.get("/people?sort=salary")
    assert bogus.status_code == 422


def test_export_times_are_in_the_workspace_time_zone(client, admin, people, session):
    from datetime import datetime, timedelta

    from tenure.customers.models import Person

    created = session.get(Person, people["Ann"]).created_at
    client.patch("/api/v1/workspace", json={"time_zone": "Asia/Tokyo"}, headers=admin.headers)
    body = {
        "name": f"tz {people['tag']}",
        "filters": {"q": "Ann Viewtest", "tag": people["tag"]},
        "columns": ["name", "created"],
        "sort": "name",
    }
    view_id = client.post("/api/v1/views", json=body, headers=admin.headers).json()["id"]
    text = client.get(f"/api/v1/views/{view_id}/export", headers=admin.headers).text
    value = list(csv.reader(io.StringIO(text)))[1][1]
    assert value.endswith("+09:00")
    assert datetime.fromisoformat(value) == created
    xlsx = client.get(f"/api/v1/views/{view_id}/export?format=xlsx", headers=admin.headers)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    local = list(sheet.iter_rows(values_only=True))[1][1]
    shifted = (created + timedelta(hours=9)).replace(tzinfo=None)
    assert abs(local - shifted) < timedelta(seconds=1)  # Excel keeps milliseconds at most


def test_the_default_columns_survive_a_round_trip_through_a_link():
    # A sort link carries the columns; read back, they must keep the default's order
    # (Organization and Owner used to swap on the first click of a header).
    from tenure.lists.columns import DEFAULT_COLUMNS

    assert parse_columns(",".join(DEFAULT_COLUMNS)) == list(DEFAULT_COLUMNS)
