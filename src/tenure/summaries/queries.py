"""Reading the read model: the 360 view and pages of the people list, as JSON bytes.

One statement reads a person: their owner and organization, their stored summary, and
their scores, stage and risk, each joined by primary key, so the cost does not grow with
the number of people or events. The stored JSON is served as it is: the live part is
serialized by pydantic or orjson (the same shapes, the same encoding as the response
models) and spliced with the stored text. A stale or missing summary, or one built from
an older version of the person's row, is assembled afresh from the source rows, so no
read ever shows one a write has outdated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, bindparam
from sqlalchemy.orm import Session

from tenure.customers.models import Person, PersonSummary
from tenure.customers.queries import PEOPLE_SORTS, PeopleFilter, filter_people, person_refs_query
from tenure.customers.queries import person_refs as refs_of
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.errors import NotFound
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.retention.models import RiskScore
from tenure.scores.models import PersonScore, ScoreRefresh
from tenure.scores.queries import REFRESH_COLUMNS, scores_dict
from tenure.summaries.build import build_cards
from tenure.summaries.documents import assemble
from tenure.summaries.schemas import Live360, Person360

#: Whether the stored summary may be served: not marked stale by a writer, and built
#: from the person's row as it is now (a write to the person's columns that did not mark
#: it stale still changed ``updated_at``).
_SERVABLE = and_(
    PersonSummary.stale.is_(False), PersonSummary.source_updated_at == Person.updated_at
).label("servable")

_SCORE_COLUMNS = [
    *(c for c in PersonScore.__table__.columns if c.name != "person_id"),
    *REFRESH_COLUMNS,
]
_STAGE_COLUMNS = {
    "key": LifecycleStage.key,
    "name": LifecycleStage.name,
    "entered_at": PersonStage.entered_at,
    "overridden": PersonStage.overridden,
}
_RISK_COLUMNS = {
    name: getattr(RiskScore, name)
    for name in ("risk", "as_of", "value_at_risk_minor", "currency", "reasons")
}

_PERSON_360 = (
    person_refs_query()
    .add_columns(
        _SERVABLE,
        PersonSummary.card,
        PersonSummary.document,
        *_SCORE_COLUMNS,
        *_STAGE_COLUMNS.values(),
        *_RISK_COLUMNS.values(),
    )
    .outerjoin(PersonSummary, PersonSummary.person_id == Person.id)
    .outerjoin(PersonScore, PersonScore.person_id == Person.id)
    .outerjoin(ScoreRefresh, ScoreRefresh.id == PersonScore.refresh_id)
    .outerjoin(PersonStage, PersonStage.person_id == Person.id)
    .outerjoin(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
    .outerjoin(RiskScore, RiskScore.person_id == Person.id)
    .where(Person.id == bindparam("person_id"))
)
# A row of _PERSON_360, read by position (by name cost a tenth of the request): id, the
# PersonRefs columns, servable, card, document, then the scores, stage and risk columns.
_SCORES_AT = len(person_refs_query().selected_columns) + 3
_STAGE_AT = _SCORES_AT + len(_SCORE_COLUMNS)
_RISK_AT = _STAGE_AT + len(_STAGE_COLUMNS)


_SCORE_NAMES = [c.name for c in _SCORE_COLUMNS]
_STAGE_NAMES = list(_STAGE_COLUMNS)
_RISK_NAMES = list(_RISK_COLUMNS)


def _part(row: Any, start: int, names: Sequence[str]) -> dict[str, Any]:
    return dict(zip(names, row[start : start + len(names)], strict=True))


def _live_360(row: Any) -> dict[str, Any]:
    score = _part(row, _SCORES_AT, _SCORE_NAMES)
    stage = _part(row, _STAGE_AT, _STAGE_NAMES)
    risk = _part(row, _RISK_AT, _RISK_NAMES)
    return {
        **refs_of(row),
        "scores": scores_dict(SimpleNamespace(**score)) if score["as_of"] else None,
        "stage": stage if stage["key"] else None,
        "risk": risk if risk["as_of"] else None,
    }


def _splice(live: str, *stored: str) -> str:
    """``{live...}`` and stored ``{...}`` objects as one object (no parse, no re-encode)."""
    return live[:-1] + "".join("," + part[1:-1] for part in stored) + "}"


def _summary(connection: Connection, row: Any) -> tuple[str, str]:
    """The person's card and document JSON: as stored while servable, else afresh."""
    if row.servable and row.card is not None and row.document is not None:
        return row.card, row.document
    with Session(bind=connection) as session:
        built = assemble(session, row.id)
    return built.card, built.document


def person_360_json(connection: Connection, person_id: int) -> bytes:
    """The 360 view (``schemas.Person360``) as JSON; raises NotFound. Reads on
    ``connection`` alone unless the summary must be assembled afresh (a session on it)."""
    row = connection.execute(_PERSON_360, {"person_id": person_id}).first()
    if row is None:
        raise NotFound("person", person_id)
    card, document = _summary(connection, row)
    live = Live360.model_validate(_live_360(row)).model_dump_json()
    return _splice(live, card, document).encode()


def person_360(session: Session, person_id: int) -> dict[str, Any]:
    """The 360 view as data, datetimes and all (the person page and its cards read it);
    raises NotFound."""
    return Person360.model_validate_json(
        person_360_json(session.connection(), person_id)
    ).model_dump()


# The people list: keyset pages over the list's sort indexes (ix_people_created_at_id,
# ix_people_last_name_id, the primary key), each row's card joined by primary key. A
# row: id, the ``PersonRefs`` columns, the sort key, servable, card.
_LIST_SORT = len(person_refs_query().selected_columns)
_LIST_SERVABLE, _LIST_CARD = _LIST_SORT + 1, _LIST_SORT + 2


def _list_query(sort_column: Any) -> Select[Any]:
    return (
        person_refs_query()
        .add_columns(sort_column.label("sort_key"), _SERVABLE, PersonSummary.card)
        .outerjoin(PersonSummary, PersonSummary.person_id == Person.id)
    )


def _first_page(sort: str) -> Select[Any]:
    column = PEOPLE_SORTS[sort.lstrip("-")]
    order = (column.desc(), Person.id.desc()) if sort.startswith("-") else (column, Person.id)
    return _list_query(column).order_by(*order).limit(bindparam("limit"))


#: The unfiltered first page of each sort, built once (a select built per call cost more
#: than running it).
_FIRST_PAGES = {sort: _first_page(sort) for key in PEOPLE_SORTS for sort in (key, f"-{key}")}


def _servable_card(row: Any) -> str | None:
    return row[_LIST_CARD] if row[_LIST_SERVABLE] else None


def _items(connection: Connection, rows: Sequence[Any]) -> list[str]:
    """Each row as a person object (``PersonOut``): the live owner and organization and
    the stored card; the cards of rows not servable are built from the source rows, all
    in one batch (a person deleted meanwhile is left out)."""
    unservable = [row[0] for row in rows if _servable_card(row) is None]
    built: dict[int, str] = {}
    if unservable:
        with Session(bind=connection) as session:
            built = build_cards(session, unservable)
    items = []
    for row in rows:
        card = _servable_card(row) or built.get(row[0])
        if card is not None:
            live = orjson.dumps(refs_of(row)).decode()
            items.append(_splice(live, card))
    return items


def people_page_json(
    connection: Connection,
    *,
    filters: PeopleFilter,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> bytes:
    """A page of the people list (``{"items": [PersonOut], "next_cursor"}``) as JSON."""
    if cursor is None and filters == PeopleFilter():
        query = _FIRST_PAGES[sort]
        rows = connection.execute(query, {"limit": limit + 1}).all()
    else:
        sort_column = PEOPLE_SORTS[sort.lstrip("-")]
        query = apply_keyset(
            filter_people(_list_query(sort_column), filters),
            sort_column=sort_column,
            id_column=Person.id,
            descending=sort.startswith("-"),
            cursor=cursor,
            limit=limit,
        )
        rows = connection.execute(query).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][_LIST_SORT], rows[-1][0])
    items = ",".join(_items(connection, rows))
    return f'{{"items":[{items}],"next_cursor":{json.dumps(next_cursor)}}}'.encode()
