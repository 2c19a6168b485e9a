"""The columns a people list can show, sort by and export: one registry.

Each column names the SQL expression it shows (``value``; None for columns the list
loads per page, such as emails and tags) and the expression it sorts by (``sort``; None:
not sortable). Sort expressions never hold NULL (``coalesce`` to a value below every
real one), because the keyset cursor compares ``(sort, id)`` row values and a NULL
would compare as unknown, dropping rows from the next page. People without a value so
sort first ascending and last descending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Float, case, func, literal, select
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from tenure.customers.models import Identity, Organization, Person
from tenure.db.types import UTCDateTime
from tenure.errors import InvalidInput
from tenure.identity.models import User
from tenure.lifecycle.models import LifecycleStage
from tenure.scores.models import PersonScore, ScoreRefresh
from tenure.timeline.models import Event

#: A column or an SQL expression over the list's tables.
Expr = ColumnElement[Any] | QueryableAttribute[Any]
Kind = Literal["name", "text", "list", "money", "number", "percent", "date"]

_LONG_AGO = literal(datetime(1, 1, 1, tzinfo=UTC), UTCDateTime())


def _first_identity(kind: str) -> Any:
    return (
        select(Identity.value)
        .where(Identity.person_id == Person.id, Identity.kind == kind)
        .order_by(Identity.is_primary.desc(), Identity.id)
        .limit(1)
        .correlate(Person)
        .scalar_subquery()
    )


_ORDER_COUNT = (
    select(func.count())
    .where(Event.person_id == Person.id, Event.type == "order")
    .correlate(Person)
    .scalar_subquery()
)
_LAST_ORDER = (
    select(func.max(Event.occurred_at))
    .where(Event.person_id == Person.id, Event.type == "order")
    .correlate(Person)
    .scalar_subquery()
)
# The scores' currency is their refresh's, the same for every row (a change of currency
# changes every row): the newest refresh's, read once per query, for people with scores.
_SCORES_CURRENCY = case(
    (
        PersonScore.person_id.is_not(None),
        select(ScoreRefresh.currency).order_by(ScoreRefresh.id.desc()).limit(1).scalar_subquery(),
    )
)
_OWNER_NAME = func.coalesce(func.nullif(User.name, ""), User.email)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind
    #: What the column shows, selected as ``col_<key>`` (None: loaded per page).
    value: Expr | None
    #: What it sorts by, never NULL (None: not sortable).
    sort: Expr | None
    #: Which joins its expressions need (``scores``, ``stage``).
    joins: tuple[str, ...] = ()
    #: Extra values shown beside it (the currency of an amount), selected as ``col_<key>``.
    extras: dict[str, Expr] | None = None
    #: The cell of a loaded row (exports and pages).
    cell: Callable[[dict[str, Any]], Any] | None = None

    @property
    def sortable(self) -> bool:
        return self.sort is not None


def _joined(kind: str) -> Callable[[dict[str, Any]], str]:
    def cell(row: dict[str, Any]) -> str:
        return ";".join(i["value"] for i in row["identities"] if i["kind"] == kind)

    return cell


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column(
            "name",
            "Name",
            "name",
            None,
            func.lower(Person.last_name + " " + Person.first_name),
            cell=lambda r: " ".join(p for p in (r["first_name"], r["last_name"]) if p),
        ),
        Column(
            "email",
            "Email",
            "list",
            None,
            func.lower(func.coalesce(_first_identity("email"), "")),
            cell=_joined("email"),
        ),
        Column("phone", "Phone", "list", None, None, cell=_joined("phone")),
        Column(
            "owner",
            "Owner",
            "text",
            None,
            func.lower(func.coalesce(_OWNER_NAME, "")),
            cell=lambda r: (r["owner"]["name"] or r["owner"]["email"]) if r["owner"] else "",
        ),
        Column(
            "organization",
            "Organization",
            "text",
            None,
            func.lower(func.coalesce(Organization.name, "")),
            cell=lambda r: r["organization"]["name"] if r["organization"] else "",
        ),
        Column(
            "stage",
            "Stage",
            "text",
            LifecycleStage.name,
            func.coalesce(LifecycleStage.position, -1),
            joins=("stage",),
        ),
        Column("tags", "Tags", "list", None, None, cell=lambda r: ";".join(r["tags"])),
        Column(
            "revenue",
            "Revenue",
            "money",
            PersonScore.revenue_minor,
            func.coalesce(PersonScore.revenue_minor, -1),
            joins=("scores",),
            extras={"currency": _SCORES_CURRENCY},
        ),
        Column("orders", "Orders", "number", _ORDER_COUNT, func.coalesce(_ORDER_COUNT, 0)),
        Column(
            "last_order", "Last order", "date", _LAST_ORDER, func.coalesce(_LAST_ORDER, _LONG_AGO)
        ),
        Column(
            "clv",
            "CLV (12 months)",
            "money",
            PersonScore.clv_12m_minor,
            func.coalesce(PersonScore.clv_12m_minor, -1),
            joins=("scores",),
            extras={"currency": _SCORES_CURRENCY},
        ),
        Column(
            "churn_risk",
            "Churn risk",
            "percent",
            PersonScore.churn_probability,
            func.coalesce(PersonScore.churn_probability, literal(-1.0, Float())),
            joins=("scores",),
        ),
        Column("created", "Created", "date", Person.created_at, Person.created_at),
    ]
}

# In the registry's order: a view read back from a link lists its columns in that order,
# so the default must too (Organization and Owner swapped places on the first sort).
DEFAULT_COLUMNS = ("name", "email", "owner", "organization", "tags", "created")
DEFAULT_SORT = "-created"


@dataclass(frozen=True)
class Sort:
    column: Column
    descending: bool

    @property
    def param(self) -> str:
        return ("-" if self.descending else "") + self.column.key


def parse_columns(keys: list[str] | str | None) -> list[str]:
    """Chosen column keys in registry order (an unknown key is a 422 on ``columns``)."""
    if keys is None or keys == [] or keys == "":
        return list(DEFAULT_COLUMNS)
    if isinstance(keys, str):
        keys = [keys]
    # Repeated (a form's checkboxes) or comma-separated (a link): both are accepted.
    wanted = {k.strip() for item in keys for k in item.split(",") if k.strip()}
    unknown = sorted(wanted - set(COLUMNS))
    if unknown:
        raise InvalidInput(
            "columns", f"unknown column {unknown[0]!r}; choose from {', '.join(COLUMNS)}"
        )
    return [key for key in COLUMNS if key in wanted] or list(DEFAULT_COLUMNS)


def parse_sort(value: str | None) -> Sort:
    """``key`` ascending or ``-key`` descending (422 on ``sort`` for anything else)."""
    text = (value or DEFAULT_SORT).strip()
    descending = text.startswith("-")
    column = COLUMNS.get(text.lstrip("-"))
    if column is None or not column.sortable:
        sortable = ", ".join(k for k, c in COLUMNS.items() if c.sortable)
        raise InvalidInput("sort", f"{value!r} is not a sortable column; use one of {sortable}")
    return Sort(column, descending)
