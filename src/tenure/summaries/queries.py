"""Reading the read model: the 360 view and pages of the people list, as JSON bytes.

One statement reads a person: their row, owner and organization, their stored summary,
and their scores, stage and risk, each joined by primary key, so the cost does not grow
with the number of people or events. The stored JSON is served as it is: the live part
is serialized by pydantic (the same shapes, the same encoding as the response models)
and spliced with the stored text. A stale or missing summary is assembled afresh from
the source rows (``documents.assemble``), so no read ever shows one a write has outdated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Select, bindparam
from sqlalchemy.orm import Session

from tenure.customers.models import Person, PersonSummary
from tenure.customers.queries import (
    PEOPLE_SORTS,
    PeopleFilter,
    filter_people,
    person_list_dicts,
    person_list_query,
    person_row_fields,
)
from tenure.customers.schemas import PersonOut
from tenure.db.paging import apply_keyset, encode_cursor
from tenure.errors import NotFound
from tenure.lifecycle.models import LifecycleStage, PersonStage
from tenure.retention.models import RiskScore
from tenure.scores.models import PersonScore
from tenure.scores.queries import scores_dict
from tenure.summaries.documents import Assembled, assemble
from tenure.summaries.schemas import Live360, Person360

_SCORE_COLUMNS = [c for c in PersonScore.__table__.columns if c.name != "person_id"]

_PERSON_360 = (
    person_list_query()
    .add_columns(
        PersonSummary.stale,
        PersonSummary.card,
        PersonSummary.document,
        *(c.label(f"score_{c.name}") for c in _SCORE_COLUMNS),
        LifecycleStage.key.label("stage_key"),
        LifecycleStage.name.label("stage_name"),
        PersonStage.entered_at.label("stage_entered_at"),
        PersonStage.overridden.label("stage_overridden"),
        RiskScore.risk.label("risk_risk"),
        RiskScore.as_of.label("risk_as_of"),
        RiskScore.value_at_risk_minor.label("risk_value_at_risk_minor"),
        RiskScore.currency.label("risk_currency"),
        RiskScore.reasons.label("risk_reasons"),
    )
    .outerjoin(PersonSummary, PersonSummary.person_id == Person.id)
    .outerjoin(PersonScore, PersonScore.person_id == Person.id)
    .outerjoin(PersonStage, PersonStage.person_id == Person.id)
    .outerjoin(LifecycleStage, LifecycleStage.id == PersonStage.stage_id)
    .outerjoin(RiskScore, RiskScore.person_id == Person.id)
    .where(Person.id == bindparam("person_id"))
)


def _prefixed(row: Any, prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in row._mapping.items() if k.startswith(prefix)}


def _live_360(row: Any) -> dict[str, Any]:
    score = _prefixed(row, "score_")
    stage = _prefixed(row, "stage_")
    risk = _prefixed(row, "risk_")
    return {
        **person_row_fields(row),
        "scores": scores_dict(SimpleNamespace(**score)) if score["as_of"] else None,
        "stage": stage if stage["key"] else None,
        "risk": risk if risk["as_of"] else None,
    }


def _splice(live: str, *stored: str) -> str:
    """``{live...}`` and stored ``{...}`` objects as one object (no parse, no re-encode)."""
    return live[:-1] + "".join("," + part[1:-1] for part in stored) + "}"


def _summary(session: Session, row: Any) -> Assembled:
    if row.stale is False and row.card is not None and row.document is not None:
        return Assembled(card=row.card, document=row.document)
    return assemble(session, row.id)


def person_360_json(session: Session, person_id: int) -> bytes:
    """The 360 view (``schemas.Person360``) as JSON; raises NotFound."""
    row = session.connection().execute(_PERSON_360, {"person_id": person_id}).first()
    if row is None:
        raise NotFound("person", person_id)
    summary = _summary(session, row)
    live = Live360.model_validate(_live_360(row)).model_dump_json()
    return _splice(live, summary.card, summary.document).encode()


def person_360(session: Session, person_id: int) -> dict[str, Any]:
    """The 360 view as data, datetimes and all (the person page and its cards read it);
    raises NotFound."""
    return Person360.model_validate_json(person_360_json(session, person_id)).model_dump()


# The people list: keyset pages over the list's sort indexes (ix_people_created_at_id,
# ix_people_last_name_id, the primary key), each row's card joined by primary key.


def _list_query() -> Select[Any]:
    return (
        person_list_query()
        .add_columns(PersonSummary.stale, PersonSummary.card)
        .outerjoin(PersonSummary, PersonSummary.person_id == Person.id)
    )


def _first_page(sort: str) -> Select[Any]:
    column = PEOPLE_SORTS[sort.lstrip("-")]
    order = (column.desc(), Person.id.desc()) if sort.startswith("-") else (column, Person.id)
    return _list_query().order_by(*order).limit(bindparam("limit"))


#: The unfiltered first page of each sort, built once (a select built per call cost more
#: than running it).
_FIRST_PAGES = {sort: _first_page(sort) for key in PEOPLE_SORTS for sort in (key, f"-{key}")}


def _items(session: Session, rows: Sequence[Any]) -> list[str]:
    """Each row as a person object (``PersonOut``): the live columns and the stored card;
    rows whose card is stale are loaded from the source rows, all in one batch."""
    rebuilt = {
        person["id"]: PersonOut.model_validate(person).model_dump_json()
        for person in person_list_dicts(
            session, [r for r in rows if r.stale is not False or r.card is None]
        )
    }
    return [rebuilt.get(row.id) or _splice(_live_person_json(row), row.card) for row in rows]


def _live_person_json(row: Any) -> str:
    """``PersonFields``' JSON, written by orjson from the typed row: pydantic's encoding
    (UTC as ``Z``; tests/summaries compare the two), at a fifth of validating each row."""
    return orjson.dumps(person_row_fields(row), option=orjson.OPT_UTC_Z).decode()


def people_page_json(
    session: Session,
    *,
    filters: PeopleFilter,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> bytes:
    """A page of the people list (``{"items": [PersonOut], "next_cursor"}``) as JSON."""
    if cursor is None and filters == PeopleFilter():
        query = _FIRST_PAGES[sort]
        rows = session.connection().execute(query, {"limit": limit + 1}).all()
    else:
        query = apply_keyset(
            filter_people(_list_query(), filters),
            sort_column=PEOPLE_SORTS[sort.lstrip("-")],
            id_column=Person.id,
            descending=sort.startswith("-"),
            cursor=cursor,
            limit=limit,
        )
        rows = session.connection().execute(query).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], sort.lstrip("-")), rows[-1].id)
    items = ",".join(_items(session, rows))
    return f'{{"items":[{items}],"next_cursor":{json.dumps(next_cursor)}}}'.encode()
