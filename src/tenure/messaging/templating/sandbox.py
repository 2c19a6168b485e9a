"""The sandboxed Jinja2 environments templates render in, their values and filters.

Template authors are staff, but a template is data anyone with the editor role can change,
and it renders customer data; so it runs in Jinja2's ``ImmutableSandboxedEnvironment``
(Jinja2 >= 3.1.6: earlier versions had sandbox escapes through ``str.format`` and the
``attr`` filter), tightened further:

- no attribute starting with ``_`` and no ``str.format``/``format_map`` (the route of the
  format-string escapes) even where the stock sandbox would allow it;
- no ``attr`` filter (it names attributes by string, past the save-time check), no
  ``safe`` (customer data is always escaped in HTML), no ``pprint``/``lipsum``;
- ``StrictUndefined``: a missing value is an error, never an empty string in a sent mail;
- bounded work: ``*`` and ``**`` may not build huge strings or numbers and the output of
  one render is capped, so a template cannot stall the sender.

Customer values reach templates as :class:`Record` (attribute access only, no methods
that could shadow a field such as ``order.items``), :class:`Money`, dates, text, numbers
and lists.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import StrictUndefined, Template, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from tenure.messaging.templating.fields import FORBIDDEN_TEXT_METHODS

#: Characters one render may produce (a long newsletter is ~100 kB of HTML).
MAX_OUTPUT_CHARS = 1_000_000
#: Longest text or list ``*`` may build, and largest exponent of ``**``.
MAX_REPEAT_LENGTH = 10_000
MAX_EXPONENT = 100
#: Iterations of every ``{% for %}`` of one render together (nested loops multiply: three
#: loops over ``range(1000)`` would be 10^9 with no output for the output cap to stop).
MAX_LOOP_ITERATIONS = 100_000
#: Largest ``range()`` (Jinja2's own cap is 100,000).
MAX_RANGE = 10_000
REMOVED_FILTERS = ("attr", "safe", "pprint")
REMOVED_GLOBALS = ("lipsum",)

# Minor units per major unit for currencies whose exponent is not 2 (ISO 4217).
CURRENCY_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


class Record(SimpleNamespace):
    """A customer value a template reads by attribute (``person.name``): no public methods,
    so no field is shadowed by one (a dict's ``items`` would hide ``order.items``)."""


@dataclass(frozen=True)
class Money:
    """An amount in minor units with its currency; prints formatted (``$1,234.50``)."""

    amount_minor: int
    currency: str | None

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-CURRENCY_EXPONENTS.get(self.currency or "", 2))

    def __str__(self) -> str:
        return format_money(self)


def _require_defined(value: Any) -> None:
    """A missing value reaching a filter raises the undefined error (``last_order.total``
    of a person with no order), not a TypeError about the filter's argument."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming what was missing


def format_money(value: Any, currency: str | None = None) -> str:
    """``{{ order.total|money }}``: a Money, or a number of major units with ``currency``."""
    _require_defined(value)
    if value is None:
        return ""
    if isinstance(value, Money):
        amount, currency = value.amount, value.currency
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raise TypeError(f"money needs an amount, not {type(value).__name__}")
    exponent = CURRENCY_EXPONENTS.get(currency or "", 2)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.{exponent}f}"
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {currency or ''}".strip()


#: ``{{ order.date|date }}`` -> "12 June 1998"; ``date("%d/%m/%Y")`` for another form.
DEFAULT_DATE_FORMAT = "%-d %B %Y"
MAX_DATE_FORMAT_CHARS = 40


def format_date(value: Any, fmt: str = DEFAULT_DATE_FORMAT) -> str:
    _require_defined(value)
    if value is None:
        return ""
    if not isinstance(value, date):
        raise TypeError(f"date needs a date, not {type(value).__name__}")
    if not isinstance(fmt, str) or len(fmt) > MAX_DATE_FORMAT_CHARS:
        raise TypeError(f"a date format is text of at most {MAX_DATE_FORMAT_CHARS} characters")
    if fmt == DEFAULT_DATE_FORMAT:  # %-d is not portable: spell the default out
        return f"{value.day} {value.strftime('%B %Y')}"
    return value.strftime(fmt)


_ITERATIONS: ContextVar[list[int]] = ContextVar("template_loop_iterations")
LOOP_BUDGET_FILTER = "loop_budget"


def loop_budget(iterable: Iterable[Any]) -> Iterator[Any]:
    """Counts one render's loop iterations against MAX_LOOP_ITERATIONS (every ``for``
    iterates through this, see :class:`BudgetedLoops`)."""
    counter = _ITERATIONS.get([0])
    for item in iterable:
        counter[0] += 1
        if counter[0] > MAX_LOOP_ITERATIONS:
            raise SecurityError(f"the loops run more than {MAX_LOOP_ITERATIONS:,} times")
        yield item


class BudgetedLoops(CodeGenerator):
    """Compiles every ``{% for x in y %}`` as ``{% for x in y|loop_budget %}``."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            if not (isinstance(loop.iter, nodes.Filter) and loop.iter.name == LOOP_BUDGET_FILTER):
                loop.iter = nodes.Filter(
                    loop.iter, LOOP_BUDGET_FILTER, [], [], None, None, lineno=loop.lineno
                )
        super().visit_Template(node, frame)


def _small_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE:,} numbers")
    return numbers


class EmailSandbox(ImmutableSandboxedEnvironment):
    """The stock immutable sandbox, with no underscore names, no ``str.format`` and
    bounded ``*``/``**``."""

    intercepted_binops = frozenset({"*", "**"})
    code_generator_class = BudgetedLoops

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        if isinstance(obj, str) and attr in FORBIDDEN_TEXT_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # The stock sandbox returns an undefined that raises only when printed; inside a
        # list (``map(attribute="__class__")|list``) it would print as "Undefined". Refuse
        # at the access instead.
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and len(sequence) * count > MAX_REPEAT_LENGTH
            ):
                raise SecurityError(f"repeating makes more than {MAX_REPEAT_LENGTH} items")
        return operator.mul(left, right)


def _environment(*, html: bool) -> EmailSandbox:
    env = EmailSandbox(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=False)
    for name in REMOVED_FILTERS:
        env.filters.pop(name, None)
    for name in REMOVED_GLOBALS:
        env.globals.pop(name, None)
    env.filters["money"] = format_money
    env.filters["date"] = format_date
    env.filters[LOOP_BUDGET_FILTER] = loop_budget
    env.globals["range"] = _small_range
    return env


#: The body renders with HTML autoescape; the subject is a header line, so plain text.
HTML_ENV = _environment(html=True)
SUBJECT_ENV = _environment(html=False)


def environment(field: str) -> EmailSandbox:
    return SUBJECT_ENV if field == "subject" else HTML_ENV


@lru_cache(maxsize=256)
def compile_source(source: str, field: str) -> Template:
    """The compiled template (cached: a bulk send renders one version many times)."""
    return environment(field).from_string(source)


def render_capped(template: Template, context: dict[str, Any]) -> str:
    """Render with the output and loop budgets of one render."""
    parts: list[str] = []
    size = 0
    token = _ITERATIONS.set([0])
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise SecurityError(f"the output is longer than {MAX_OUTPUT_CHARS:,} characters")
            parts.append(chunk)
    finally:
        _ITERATIONS.reset(token)
    return "".join(parts)


def to_template_value(value: Any) -> Any:
    """Plain context data (dicts, lists, scalars) as the values templates see: dicts become
    Records, recursively."""
    if isinstance(value, dict):
        return Record(**{str(k): to_template_value(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [to_template_value(v) for v in value]
    return value
