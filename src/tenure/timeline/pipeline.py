"""The event pipeline: what runs after events are appended, in a defined order.

A capability that reacts to stored events (lifecycle places people in stages; journeys,
tickets and workflows to come) registers a reaction here instead of being called by each
web handler or importer. ``timeline.append`` runs the reactions after every append, in the
appending transaction, ordered by ``order`` then name:

* a reaction that only changes Tenure's own tables (stages, segment entries, enrolment
  rows) does its work right there, so the events and their consequences commit or roll
  back together;
* a reaction with an external effect (an email, a webhook call) must not perform it: it
  writes a job row in the same transaction (the outbox, ``tenure.jobs``), which the job
  runner executes after commit.

Reactions are registered at start-up by the composition root ``tenure.registrations``
(called by the web app, the CLI and the test suite), not as an import side effect, so the
timeline never imports the capabilities that react to it. Appending with no reaction
registered is refused for events from outside: a process that forgot to register would
otherwise store events that never move a stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

# The origin of events from outside (the API, imports, the demo's purchase log), as
# opposed to events a capability derives itself (lifecycle's stage changes, segments').
OUTSIDE = "outside"


@dataclass(frozen=True)
class Appended:
    """What one append stored: the people it touched, what kind of events, from where.

    ``origin`` is ``OUTSIDE`` or the name of the capability that appended (``lifecycle``,
    ``segments``); ``event_ids`` holds the stored events' ids for appends from outside,
    and for bulk appends when a reaction asked for them (``wants_event_ids``); else it is
    empty (ids read back only for who needs them: COPY on PostgreSQL returns none).
    """

    person_ids: tuple[int, ...]
    types: frozenset[str]
    origin: str = OUTSIDE
    actor_id: int | None = None
    event_ids: tuple[int, ...] = field(default=())


Reaction = Callable[[Session, Appended], object]
#: Whether a reaction needs the ids of events of these types appended in this session's
#: transaction (webhooks: only when an enabled subscription wants one of the types).
WantsIds = Callable[[Session, frozenset[str]], bool]


@dataclass(frozen=True)
class Registered:
    name: str
    order: int
    react: Reaction
    ignore_origins: frozenset[str]
    wants_event_ids: WantsIds | None = None


_registry: dict[str, Registered] = {}
# Reactions append events of their own (a stage change is an event); they run the
# pipeline again, one level deeper. A loop between reactions stops here, loudly.
_MAX_DEPTH = 4
_depth: ContextVar[int] = ContextVar("reaction_depth", default=0)


class PipelineNotConfigured(RuntimeError):
    pass


def register_reaction(
    name: str,
    react: Reaction,
    *,
    order: int,
    ignore_origins: Iterable[str] = (),
    wants_event_ids: WantsIds | None = None,
) -> None:
    """Run ``react(session, appended)`` after every append whose origin is not in
    ``ignore_origins`` (a reaction ignores at least the events it appends itself).

    Lower ``order`` runs first. Registering a name again replaces it, so start-up can run
    more than once. A reaction that reads the appended events back by id gives
    ``wants_event_ids``: bulk appends then return the ids when it says so, and the
    reaction also runs for events that touch no person (an organization's note).
    """
    _registry[name] = Registered(name, order, react, frozenset(ignore_origins), wants_event_ids)


def reactions() -> list[Registered]:
    """The registered reactions in the order they run."""
    return sorted(_registry.values(), key=lambda r: (r.order, r.name))


def interested(origin: str) -> list[Registered]:
    """The reactions that would run for events appended by ``origin``.

    Events from outside with nothing registered are refused: stored, they would never move
    a stage. A capability's own derived events (a stage change, a segment entry) are not:
    scripts and workers that evaluate stages or refresh segments need no reaction to be
    correct, and refusing them would make every such entry point register first.
    """
    if not _registry and origin == OUTSIDE:
        raise PipelineNotConfigured(
            "no event reactions are registered: call tenure.registrations.register_all() "
            "at start-up (the web app, the CLI and the tests do)"
        )
    return [r for r in reactions() if origin not in r.ignore_origins]


def ids_wanted(session: Session, origin: str, types: frozenset[str]) -> bool:
    """Whether a reaction that would run wants the ids of these events (a bulk append
    then reads them back)."""
    return any(
        r.wants_event_ids is not None and r.wants_event_ids(session, types)
        for r in interested(origin)
    )


def run_reactions(session: Session, appended: Appended) -> None:
    """Run the reactions interested in ``appended``, in order, in the caller's transaction.
    Events that touch no person reach only the reactions that read events by id."""
    wanted = interested(appended.origin)
    if not appended.person_ids:
        if not appended.event_ids:
            return
        wanted = [r for r in wanted if r.wants_event_ids is not None]
    if not wanted:
        return
    depth = _depth.get()
    if depth >= _MAX_DEPTH:
        raise RuntimeError(f"event reactions nested {depth} deep: a reaction loop?")
    token = _depth.set(depth + 1)
    try:
        for reaction in wanted:
            reaction.react(session, appended)
    finally:
        _depth.reset(token)


@contextmanager
def replaced_reactions(*registered: tuple[str, Reaction, int]) -> Iterator[None]:
    """Run with only the given (name, reaction, order) registered; for tests of the pipeline."""
    saved = dict(_registry)
    _registry.clear()
    try:
        for name, react, order in registered:
            register_reaction(name, react, order=order)
        yield
    finally:
        _registry.clear()
        _registry.update(saved)
