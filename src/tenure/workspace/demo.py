"""What capabilities contribute to the demo workspace, through a registration.

The demo builder (``tenure.datasets.demo``) lays the base: the workspace and its clock,
the organizations, the people and their identities, and the CDNOW purchase log as order
events. Everything else a capability wants the demo to show (its staff, its tags, its
consents...) it contributes here, so the demo exercises every feature without one builder
that every change edits:

```python
from tenure.workspace.demo import register_demo_contribution

register_demo_contribution("customers.tags", add_demo_tags, order=40)
```

Contributions run after the base, in the builder's transaction, lower ``order`` first
(then by name). Each receives a :class:`DemoContext` with a random generator of its own,
seeded from the demo's seed and the contribution's name: adding or changing one
contribution never changes what another draws. The registry lives here, below every
capability (the workspace holds the demo flag), so a capability can register without
importing the builder above it; ``tenure.registrations`` calls each capability's
``register()`` at start-up.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DemoContext:
    session: Session  # the builder's transaction
    person_ids: Sequence[int]  # every person: the customers first, then planted duplicates
    customers: int  # how many of ``person_ids`` are CDNOW customers (the first ones)
    original_of: Mapping[int, int]  # a planted duplicate's person id -> its customer's
    organization_ids: Sequence[int]  # in the order they were created
    order_revenue: Mapping[int, int]  # customer's person id -> their orders' total (minor)
    today: datetime  # the workspace clock's now (the day after the purchase log ends)
    rng: np.random.Generator  # this contribution's own stream

    @property
    def customer_ids(self) -> Sequence[int]:
        return self.person_ids[: self.customers]


Contribute = Callable[[DemoContext], object]


@dataclass(frozen=True)
class DemoContribution:
    name: str
    order: int
    contribute: Contribute


class DemoNotConfigured(RuntimeError):
    pass


_registry: dict[str, DemoContribution] = {}


def register_demo_contribution(name: str, contribute: Contribute, *, order: int) -> None:
    """Run ``contribute(context)`` when the demo is built, after the base.

    Lower ``order`` runs first (built-ins leave gaps of 10). Registering a name again
    replaces it, so start-up can run more than once.
    """
    _registry[name] = DemoContribution(name, order, contribute)


def demo_contributions() -> list[DemoContribution]:
    """The registered contributions in the order they run."""
    return sorted(_registry.values(), key=lambda c: (c.order, c.name))


def contribution_rng(seed: int, name: str) -> np.random.Generator:
    """The stream of one contribution: the same seed and name always draw the same."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def run_demo_contributions(context: DemoContext, *, seed: int) -> list[str]:
    """Run every contribution in order, each with its own stream; return their names.

    A demo with nothing registered would have no one to log in as: refused, as the event
    pipeline refuses events with no reaction registered.
    """
    registered = demo_contributions()
    if not registered:
        raise DemoNotConfigured(
            "no demo contributions are registered: call tenure.registrations.register_all() "
            "at start-up (the web app, the CLI and the tests do)"
        )
    for contribution in registered:
        own = dataclasses.replace(context, rng=contribution_rng(seed, contribution.name))
        contribution.contribute(own)
    return [c.name for c in registered]


@contextmanager
def replaced_demo_contributions(*registered: tuple[str, Contribute, int]) -> Iterator[None]:
    """Run with only the given (name, contribute, order) registered; for tests."""
    saved = dict(_registry)
    _registry.clear()
    try:
        for name, contribute, order in registered:
            register_demo_contribution(name, contribute, order=order)
        yield
    finally:
        _registry.clear()
        _registry.update(saved)
