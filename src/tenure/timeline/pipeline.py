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
    ``segments``); ``event_ids`` is empty for bulk appends that do not read ids back.
    """

    person_ids: tuple[int, ...]
    types: frozenset[str]
    origin: str = OUTSIDE
    actor_id: int | None = None
    event_ids: tuple[int, ...] = field(default=())


Reaction = Callable[[Session, Appended], object]


@dataclass(frozen=True)
class Registered:
    name: str
    order: int
    react: Reaction
    ignore_origins: frozenset[str]


_registry: dict[str, Registered] = {}
# Reactions append events of their own (a stage change is an event); they run the
# pipeline again, one level deeper. A loop between reactions stops here, loudly.
_MAX_DEPTH = 4
_depth: ContextVar[int] = ContextVar("reaction_depth", default=0)


class PipelineNotConfigured(RuntimeError):
    pass


def register_reaction(
    name: str, react: Reaction, *, order: int, ignore_origins: Iterable[str] = ()
) -> None:
    """Run ``react(session, appended)`` after every append whose origin is not in
    ``ignore_origins`` (a reaction ignores at least the events it appends itself).

    Lower ``order`` runs first. Registering a name again replaces it, so start-up can run
    more than once.
    """
    _registry[name] = Registered(name, order, react, frozenset(ignore_origins))


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


def run_reactions(session: Session, appended: Appended) -> None:
    """Run the reactions interested in ``appended``, in order, in the caller's transaction."""
    if not appended.person_ids:
        return
    wanted = interested(appended.origin)
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
