"""The syntax tree of a segment filter, and the error every stage reports against it.

Every node keeps ``pos``, the 0-based character offset in the filter text where it
starts, so that the compiler can point at the literal or field it rejects as precisely
as the parser points at a missing parenthesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tenure.errors import InvalidInput

FILTER_FIELD = "filter"


class FilterError(InvalidInput):
    """A filter that does not parse or compile: where, what was wrong, what would do.

    Reported as HTTP 422 against the field ``filter`` with ``position`` (0-based offset)
    and ``expected`` (what would have been accepted there, possibly empty).
    """

    def __init__(self, position: int, problem: str, expected: Sequence[str] = ()) -> None:
        self.position = position
        self.problem = problem
        self.expected = tuple(expected)
        super().__init__(FILTER_FIELD, f"{problem} at position {position}")


def one_of(options: Sequence[str]) -> str:
    if len(options) == 1:
        return options[0]
    return "one of " + ", ".join(options[:-1]) + " or " + options[-1]


# Literals ------------------------------------------------------------------------------


@dataclass(frozen=True)
class String:
    value: str
    pos: int


@dataclass(frozen=True)
class Number:
    value: Decimal
    pos: int


@dataclass(frozen=True)
class Moment:
    """A date (``2024-03-01``, the whole UTC day) or a date and time (``...T10:00Z``)."""

    value: datetime
    pos: int
    date_only: bool


@dataclass(frozen=True)
class Boolean:
    value: bool
    pos: int


Literal = String | Number | Moment | Boolean


# Operands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A dotted name: ``clv``, ``attribute.plan``, ``organization.attribute.industry``."""

    path: tuple[str, ...]
    pos: int

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Span:
    """A length of time: ``90 days``, ``6 months``."""

    amount: int
    unit: str  # hours, days, weeks, months, years
    pos: int


@dataclass(frozen=True)
class Window:
    """Which events an aggregate reads: the last span, since a moment, or between two."""

    kind: str  # last, since, between
    pos: int
    span: Span | None = None
    start: Moment | None = None
    end: Moment | None = None


@dataclass(frozen=True)
class Events:
    """``order``, ``"ticket.opened"``, ``any via email``; ``.amount`` for money aggregates."""

    type: str | None  # None: any type
    channel: str | None
    measure: str | None  # "amount" or None
    pos: int


@dataclass(frozen=True)
class Aggregate:
    function: str  # count, sum, avg, min, max, first, last
    events: Events
    window: Window | None
    pos: int


Operand = Field | Aggregate


# Conditions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """``operand op value``; ``in`` / ``not in`` carry a tuple of literals, ``within`` a span."""

    operand: Operand
    op: str  # = != < <= > >= ~ in "not in" within
    value: Literal | tuple[Literal, ...] | Span
    pos: int
    direction: str = "last"  # within last | within next


@dataclass(frozen=True)
class Has:
    subject: Field
    pos: int


@dataclass(frozen=True)
class Consent:
    channel: str
    purpose: str
    pos: int


@dataclass(frozen=True)
class Not:
    item: Node
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]
    pos: int


Node = Compare | Has | Consent | Not | And | Or
