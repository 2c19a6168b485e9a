"""A page of the people list as a view: its filters, its columns and its sort, in SQL.

The list filters exactly like the API and the exports (``customers.queries.filter_people``)
and pages by keyset on ``(sort value, id)``: the id breaks ties, so the order is stable
and a page never repeats or skips a row however many people share a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from tenure.customers.models import Person, PersonSummary
from tenure.customers.queries import (
    PeopleFilter,
    filter_people,
    person_list_dicts,
    person_list_query,
)
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.lists.columns import COLUMNS, Sort
from tenure.scores.models import PersonScore


@dataclass(frozen=True)
class View:
    """What a list shows: filters, columns (keys, in order) and sort."""

    filters: PeopleFilter
    columns: Sequence[str]
    sort: Sort


@dataclass(frozen=True)
class ViewPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def _query(view: View) -> Select[Any]:
    chosen = [COLUMNS[key] for key in view.columns]
    joins = {j for c in [*chosen, view.sort.column] for j in c.joins}
    selected = []
    for column in chosen:
        if column.value is not None:
            selected.append(column.value.label(f"col_{column.key}"))
        for name, extra in (column.extras or {}).items():
            selected.append(extra.label(f"col_{column.key}_{name}"))
    assert view.sort.column.sort is not None  # parse_sort only hands out sortable columns
    query = (
        person_list_query()
        .add_columns(*selected, view.sort.column.sort.label("sort_key"))
        # Identities and tags from the read model (docs/architecture.md): by primary key.
        .add_columns(PersonSummary.stale.label("summary_stale"), PersonSummary.card)
        .outerjoin(PersonSummary, PersonSummary.person_id == Person.id)
    )
    if "scores" in joins:
        query = query.outerjoin(PersonScore, PersonScore.person_id == Person.id)
    if "stage" in joins:
        query = query.outerjoin(PersonStage, PersonStage.person_id == Person.id).outerjoin(
            LifecycleStage, LifecycleStage.id == PersonStage.stage_id
        )
    return filter_people(query, view.filters)


def _people(session: Session, raw: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows as person objects: identities and tags from each fresh summary's card,
    the stale or missing ones from the source rows in one batch."""
    cards = {
        row.id: json.loads(row.card)
        for row in raw
        if row.summary_stale is False and row.card is not None
    }
    return person_list_dicts(session, raw, cards)


def _rows(session: Session, view: View, raw: Sequence[Any]) -> list[dict[str, Any]]:
    people = _people(session, raw)
    for person, row in zip(people, raw, strict=True):
        values = row._mapping
        for key in view.columns:
            column = COLUMNS[key]
            if column.value is not None:
                person[key] = values[f"col_{key}"]
            for name in column.extras or {}:
                person[f"{key}_{name}"] = values[f"col_{key}_{name}"]
    return people


def view_page(
    session: Session, view: View, *, cursor: str | None = None, limit: int = 50
) -> ViewPage:
    """One page of the view (``limit`` rows) and the cursor of the next, if any."""
    assert view.sort.column.sort is not None
    query = apply_keyset(
        _query(view),
        sort_column=view.sort.column.sort,
        id_column=Person.id,
        descending=view.sort.descending,
        cursor=cursor,
        limit=limit,
    )
    raw = session.connection().execute(query).all()
    more = len(raw) > limit
    raw = raw[:limit]
    next_cursor = encode_cursor(raw[-1].sort_key, raw[-1].id) if more and raw else None
    return ViewPage(rows=_rows(session, view, raw), next_cursor=next_cursor)


def view_batches(
    factory: sessionmaker[Session], view: View, *, batch: int = 2_000
) -> Iterator[list[dict[str, Any]]]:
    """Every row of the view in order, a batch at a time, each read in a short session of
    its own (an export is read at the client's pace: no transaction stays open meanwhile)."""
    cursor = None
    while True:
        with factory() as session:
            page = view_page(session, view, cursor=cursor, limit=batch)
        if page.rows:
            yield page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
