"""The merge engine: clusters of people merged with a few statements per table, not per pair.

A scan auto-merges thousands of pairs; merging them one by one cost ~25 ms a pair on
SQLite (about 15 statements each, mostly SQLAlchemy overhead), so a 100k base would have
spent minutes there. Here a batch of clusters is read with one query per table, every
merge is worked out in memory in order (what each loser keeps, drops or un-flags, given
what the survivor holds by then), and the result is written with executemany and IN
lists. A single merge is a batch of one, so both paths are the same code.

Per table (found from the metadata, see ``merge_rows``):

- identities: a loser's phone the survivor already has is dropped; a loser's primary
  loses the flag where the survivor has a primary of that kind and namespace;
- tables whose key includes the person (tags, import links, segment members, and the
  one-row-per-person derived state such as scores or stage): a row the survivor already
  has is dropped; derived state is always dropped (its owner recomputes the survivor's);
- other tables (events, consents, notes, tasks, histories): every row moves. If a unique
  index includes the person column (one open alert per person), rows are moved one at a
  time in savepoints and a row that cannot move is dropped.

Dropped rows are kept in full in the merge record, moved keys too, for undo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.customers.models import Person
from tenure.customers.summaries import mark_stale
from tenure.db.dialect import id_in
from tenure.db.types import utcnow
from tenure.dedup.merge_record import record_merges
from tenure.dedup.merge_rows import IDENTITIES, PEOPLE, Reference, person_references
from tenure.dedup.models import (
    decode_value,
    encode_row,
)
from tenure.dedup.models import encode_value as enc
from tenure.errors import NotFound

# (survivor id, loser ids, score): losers merge in the order of their updated_at.
Cluster = tuple[int, Sequence[int], float | None]


class MissingPerson(NotFound):
    def __init__(self, person_id: int) -> None:
        super().__init__("person", person_id)
        self.person_id = person_id


@dataclass
class _Step:
    survivor_id: int
    loser_id: int
    score: float | None
    moves: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    # (id, value) of the survivor's identities once this step is done: its search text.
    identities: list[tuple[int, str]] = field(default_factory=list)


def _by_person(rows: Sequence[Any], column: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[column]].append(row)
    return grouped


def _load(session: Session, ref: Reference, person_ids: list[int]) -> list[Any]:
    where = id_in(session.connection(), ref.column, person_ids)
    return list(session.execute(select(ref.table).where(where)).mappings())


def _load_column(session: Session, ref: Reference, person_ids: list[int]) -> list[Any]:
    where = id_in(session.connection(), ref.column, person_ids)
    return list(session.execute(select(ref.column).where(where).distinct()))


def _plan_identities(steps: list[_Step], rows: list[Any], survivors: set[int]) -> None:
    """Work out the identity moves in order, given what the survivor holds by then."""
    by_person = _by_person(rows, "person_id")
    held = {s: list(by_person.get(s, [])) for s in survivors}
    for step in steps:
        theirs = held[step.survivor_id]
        phones = {r["value"] for r in theirs if r["kind"] == "phone"}
        groups = {(r["kind"], r["namespace"]) for r in theirs if r["is_primary"]}
        mine = by_person.get(step.loser_id, [])
        dropped = [r for r in mine if r["kind"] == "phone" and r["value"] in phones]
        kept = [r for r in mine if r not in dropped]
        unflag = [
            r["id"] for r in kept if r["is_primary"] and (r["kind"], r["namespace"]) in groups
        ]
        if mine:
            step.moves[f"{IDENTITIES.name}.person_id"] = {
                "column": "person_id",
                "keys": [[r["id"]] for r in kept],
                "dropped": [encode_row(IDENTITIES, r) for r in dropped],
                "primary_ids": [r["id"] for r in mine if r["is_primary"]],
                "unflag": unflag,
            }
        theirs.extend({**r, "is_primary": r["is_primary"] and r["id"] not in unflag} for r in kept)
        step.identities = sorted((r["id"], r["value"]) for r in theirs)


def _plan_keyed(session: Session, ref: Reference, steps: list[_Step], survivors: list[int]) -> None:
    """Tables keyed by the person (and maybe more): drop what the survivor already has."""
    losers = [s.loser_id for s in steps]
    others = [c for c in ref.table.primary_key.columns if c is not ref.column]
    by_loser = _by_person(_load(session, ref, losers), ref.column.name)
    taken: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
    if others:
        keys = select(ref.column, *others).where(id_in(session.connection(), ref.column, survivors))
        for person_id, *rest in session.execute(keys):
            taken[person_id].add(tuple(rest))
    for step in steps:
        rows = by_loser.get(step.loser_id, [])
        if not rows:
            continue
        held = taken[step.survivor_id]
        dropped = [r for r in rows if not others or tuple(r[c.name] for c in others) in held]
        kept = [r for r in rows if r not in dropped]
        held.update(tuple(r[c.name] for c in others) for r in kept)
        step.moves[ref.key] = {
            "column": str(ref.column.name),
            "keys": [[enc(r[c.name]) for c in others] for r in kept],
            "dropped": [encode_row(ref.table, r) for r in dropped],
        }


def _plan_rows(session: Session, ref: Reference, steps: list[_Step]) -> None:
    """Tables with their own key: every row of the loser moves (keys recorded for undo)."""
    pk = list(ref.table.primary_key.columns)
    where = id_in(session.connection(), ref.column, [s.loser_id for s in steps])
    by_loser: dict[int, list[list[Any]]] = defaultdict(list)
    for row in session.execute(select(ref.column, *pk).where(where)):
        by_loser[row[0]].append([enc(v) for v in row[1:]])
    for step in steps:
        if by_loser.get(step.loser_id):
            step.moves[ref.key] = {
                "column": str(ref.column.name),
                "keys": by_loser[step.loser_id],
                "dropped": [],
            }


def _move_one_by_one(session: Session, ref: Reference, step: _Step) -> None:
    """A unique index (one open alert per person) may forbid a move: such a row is
    dropped into the merge record instead."""
    pk = list(ref.table.primary_key.columns)
    moved, dropped = [], []
    for row in _load(session, ref, [step.loser_id]):
        match = and_(*(c == row[c.name] for c in pk))
        try:
            with session.begin_nested():
                session.execute(
                    update(ref.table).where(match).values({ref.column.name: step.survivor_id})
                )
            moved.append([enc(row[c.name]) for c in pk])
        except IntegrityError:  # this row only: its savepoint rolled back
            session.execute(delete(ref.table).where(match))
            dropped.append(encode_row(ref.table, row))
    if moved or dropped:
        step.moves[ref.key] = {"column": str(ref.column.name), "keys": moved, "dropped": dropped}


def _write_moves(session: Session, ref: Reference, steps: list[_Step]) -> None:
    """Delete the dropped rows, then re-point the loser's remaining rows in one go."""
    table, column = ref.table, ref.column
    pk = list(table.primary_key.columns)
    planned = [s for s in steps if ref.key in s.moves]
    dropped = [row for s in planned for row in s.moves[ref.key]["dropped"]]
    if dropped:
        match = and_(*(c == bindparam(f"k_{c.name}") for c in pk))
        params = [{f"k_{c.name}": decode_value(c, r[c.name]) for c in pk} for r in dropped]
        if table is IDENTITIES:
            ids = [r["id"] for r in dropped]
            session.execute(delete(table).where(id_in(session.connection(), table.c.id, ids)))
        else:
            session.connection().execute(delete(table).where(match), params)
    if table is IDENTITIES:
        unflag = [i for s in planned for i in s.moves[ref.key].pop("unflag")]
        if unflag:
            flags = id_in(session.connection(), table.c.id, unflag)
            session.execute(update(table).where(flags).values(is_primary=False))
    if planned:
        statement = (
            update(table)
            .where(column == bindparam("loser"))
            .values({column.name: bindparam("survivor")})
        )
        session.connection().execute(
            statement, [{"loser": s.loser_id, "survivor": s.survivor_id} for s in planned]
        )


def merge_clusters(
    *,
    session: Session,
    clusters: Sequence[Cluster],
    actor_id: int | None,
    source: str,
    resolve: Any,
    run_id: int | None = None,
) -> list[int]:
    """Merge each cluster's losers into its survivor; returns the new merge ids in order.

    Every person named must exist (MissingPerson otherwise, nothing written) and appear
    in one cluster only. ``resolve`` is ``merge.resolve_fields`` (passed in to keep the
    rule in one module). ``run_id`` names the merge run (a scan) the merges belong to.
    """
    session.flush()
    connection = session.connection()
    everyone = [p for survivor, losers, _ in clusters for p in (survivor, *losers)]
    if len(set(everyone)) != len(everyone):
        raise ValueError("a person may appear in one cluster, once")
    lock = select(PEOPLE).where(id_in(connection, PEOPLE.c.id, everyone)).with_for_update()
    people = {row["id"]: dict(row) for row in session.execute(lock).mappings()}
    for person_id in everyone:
        if person_id not in people:
            raise MissingPerson(person_id)
    steps: list[_Step] = []
    for survivor, losers, score in clusters:
        order = sorted(losers, key=lambda p: (people[p]["updated_at"], p))
        steps.extend(_Step(survivor, loser, score) for loser in order)
    survivors = sorted({s.survivor_id for s in steps})
    losers = [s.loser_id for s in steps]

    for ref in person_references():
        if ref.table is IDENTITIES:
            rows = _load(session, ref, [*survivors, *losers])
            _plan_identities(steps, rows, set(survivors))
        elif any(c is ref.column for c in ref.table.primary_key.columns):
            _plan_keyed(session, ref, steps, survivors)
        elif not ref.guarded:
            _plan_rows(session, ref, steps)
        else:
            holding = {row[0] for row in _load_column(session, ref, losers)}
            for step in steps:
                if step.loser_id in holding:
                    _move_one_by_one(session, ref, step)
            continue
        _write_moves(session, ref, steps)

    now = utcnow()
    _plan_fields(steps, people, now, resolve)
    session.execute(delete(PEOPLE).where(id_in(connection, PEOPLE.c.id, losers)))
    final = {s.survivor_id: s.after for s in steps}  # the last step of each survivor wins
    columns = [c.name for c in PEOPLE.columns if c.name != "id"]
    connection.execute(
        update(PEOPLE)
        .where(PEOPLE.c.id == bindparam("person_id"))
        .values({name: bindparam(f"v_{name}") for name in columns}),
        [
            {"person_id": pid, **{f"v_{n}": _decoded(n, after[n]) for n in columns}}
            for pid, after in final.items()
        ],
    )
    # The survivors now hold the losers' identities, tags, events...: their summaries are
    # assembled afresh (a loser's own summary row went with its other keyed rows).
    mark_stale(session, survivors, add_missing=False)
    merge_ids = record_merges(session, steps, actor_id, source, people, now, run_id)
    # Core statements bypass the ORM: objects a caller holds are read again, and the
    # deleted people leave the identity map.
    for obj in list(session.identity_map.values()):
        key = inspect(obj).identity if isinstance(obj, Person) else None
        if key and key[0] in losers and obj in session:
            session.expunge(obj)
    session.expire_all()
    return merge_ids


def _decoded(name: str, value: Any) -> Any:
    return decode_value(PEOPLE.c[name], value)


def _plan_fields(
    steps: list[_Step], people: dict[int, dict[str, Any]], now: datetime, resolve: Any
) -> None:
    """Fold each survivor's losers in order: the more recently updated non-empty value
    wins, compared with the freshest record folded so far (not with the merge's own
    time), so a cluster ends as if every record were weighed at once."""
    state = {s.survivor_id: dict(people[s.survivor_id]) for s in steps}
    fresh = {pid: row["updated_at"] for pid, row in state.items()}
    for step in steps:
        current = state[step.survivor_id]
        loser = people[step.loser_id]
        step.before = encode_row(PEOPLE, current)
        values, step.decisions = resolve({**current, "updated_at": fresh[step.survivor_id]}, loser)
        fresh[step.survivor_id] = max(fresh[step.survivor_id], loser["updated_at"])
        # As customers.actions builds it: names and identity values, lowercased.
        names = (values["first_name"], values["last_name"])
        text = " ".join(p for p in (*names, *(v for _, v in step.identities)) if p).lower()
        current.update(values, search_text=text, updated_at=now)
        step.after = encode_row(PEOPLE, current)
