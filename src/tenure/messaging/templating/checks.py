"""Checking a template when it is saved: syntax, every name against the context schema,
and the constructs that lead out of the sandbox.

The checker walks Jinja2's syntax tree (``Environment.parse``), following each attribute
chain from a top-level variable through :mod:`templating.fields`, with the names that
``{% for %}``, ``{% set %}``, ``{% with %}`` and macros bind in scope. It refuses:

- a syntax error (with Jinja2's line);
- an unknown variable, field, custom attribute, filter or test, naming it and the closest
  known names;
- anything starting with ``_`` (``person.__class__``, ``cycler.__init__.__globals__``,
  ``x["__class__"]``, ``map(attribute="__class__")``), ``str.format``/``format_map``
  (``"{0.__class__}".format(x)``), the ``attr`` filter, ``{% autoescape %}`` blocks and
  ``{% include %}``/``{% import %}``/``{% extends %}``.

The sandbox refuses the same escapes again at render (``templating.sandbox``): this check
is what gives the author a message at save time with the line, not the only defence.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import TemplateSyntaxError, meta, nodes

from tenure.messaging.templating.fields import (
    ANY,
    DATE_FIELDS,
    FORBIDDEN_TEXT_METHODS,
    LOOP_FIELDS,
    MONEY_FIELDS,
    TEXT_METHODS,
    Field,
    Kind,
    context_fields,
)
from tenure.messaging.templating.sandbox import REMOVED_FILTERS, environment

TEXT = Field(Kind.text)
NUMBER = Field(Kind.number)
LOOP = Field(Kind.object, "loop", {name: ANY for name in LOOP_FIELDS})
#: What a refused name evaluates to: anything chained on it is not reported again.
REFUSED = Field(Kind.any, "refused")
#: Filters whose result is the element of the list they filter.
_ELEMENT_FILTERS = frozenset({"first", "last", "random"})
#: Filters whose result is the list they filter (narrowed or reordered).
_SAME_FILTERS = frozenset(
    {"default", "d", "list", "sort", "reverse", "unique", "select", "reject", "batch"}
    | {"selectattr", "rejectattr", "slice"}
)
_NUMBER_FILTERS = frozenset({"length", "count", "int", "float", "sum", "round", "abs"})


@dataclass(frozen=True)
class Problem:
    """One reason a template is refused: the field (``subject``/``html``), the 1-based
    line and what is wrong, in words."""

    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.field}: {where}{self.message}"


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "the expression"


def _private_part(value: object) -> str | None:
    """The ``_``-prefixed part of a dotted attribute name (``"a.__class__"``), if any."""
    if isinstance(value, str):
        for part in value.split("."):
            if part.startswith("_"):
                return part
    return None


class _Checker:
    def __init__(self, field: str, root: Mapping[str, Field]) -> None:
        self.field = field
        self.root = root
        self.env = environment(field)
        self.scopes: list[dict[str, Field]] = [{}]
        self.problems: list[Problem] = []

    def refuse(self, node: nodes.Node, message: str) -> None:
        line = getattr(node, "lineno", None)
        if line is None:  # an {% autoescape %} block's scope carries no line; its body does
            line = next((n.lineno for n in node.find_all(nodes.Node) if n.lineno), None)
        self.problems.append(Problem(self.field, line, message))

    # -- names in scope ------------------------------------------------------------------
    def bind(self, target: nodes.Node, kind: Field) -> None:
        if isinstance(target, nodes.Name):
            self.scopes[-1][target.name] = kind
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, ANY)
        elif isinstance(target, nodes.NSRef):
            if target.attr.startswith("_"):
                self.refuse(target, f"{target.attr} is not allowed (names starting with _)")
            self.lookup(target, target.name)

    def lookup(self, node: nodes.Node, name: str) -> Field:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.root:
            return self.root[name]
        if name in self.env.globals:
            return ANY
        known = [*self.root, *self.env.globals, *(n for s in self.scopes for n in s)]
        self.refuse(node, f"unknown variable {name}{_suggest(name, known)}")
        return ANY

    def push(self, names: Mapping[str, Field] | None = None) -> None:
        self.scopes.append(dict(names or {}))

    def pop(self) -> None:
        self.scopes.pop()

    # -- statements ----------------------------------------------------------------------
    def statements(self, body: Iterable[nodes.Node]) -> None:
        for node in body:
            self.statement(node)

    def statement(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not isinstance(child, nodes.TemplateData):
                    self.expr(child)
        elif isinstance(node, nodes.If):
            self.expr(node.test)
            self.statements(node.body)
            self.statements(node.elif_)
            self.statements(node.else_)
        elif isinstance(node, nodes.For):
            self.for_loop(node)
        elif isinstance(node, nodes.Assign):
            self.bind(node.target, self.expr(node.node))
        elif isinstance(node, nodes.AssignBlock):
            self.statements(node.body)
            if node.filter is not None:
                self.expr(node.filter)
            self.bind(node.target, TEXT)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            self.macro(node)
        elif isinstance(node, nodes.FilterBlock):
            self.expr(node.filter)
            self.statements(node.body)
        elif isinstance(node, nodes.With):
            values = [self.expr(value) for value in node.values]
            self.push()
            for target, kind in zip(node.targets, values, strict=True):
                self.bind(target, kind)
            self.statements(node.body)
            self.pop()
        elif isinstance(node, nodes.Block):
            self.statements(node.body)
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            self.refuse(node, "a template cannot include, import or extend another template")
        elif isinstance(node, nodes.Scope | nodes.EvalContextModifier | nodes.OverlayScope):
            self.refuse(node, "autoescape blocks are not allowed: customer data is always escaped")
        else:
            self.refuse(node, f"{type(node).__name__.lower()} is not supported in email templates")

    def for_loop(self, node: nodes.For) -> None:
        iterated = self.expr(node.iter)
        element = iterated.item if iterated.kind == Kind.list and iterated.item else ANY
        self.push({"loop": LOOP})
        self.bind(node.target, element)
        if node.test is not None:
            self.expr(node.test)
        self.statements(node.body)
        self.pop()
        self.statements(node.else_)

    def macro(self, node: nodes.Macro | nodes.CallBlock) -> None:
        for default in node.defaults:
            self.expr(default)
        if isinstance(node, nodes.Macro):
            self.scopes[-1][node.name] = ANY
        else:
            self.expr(node.call)
        names = {"caller": ANY, "varargs": ANY, "kwargs": ANY}
        names.update({arg.name: ANY for arg in node.args})
        self.push(names)
        self.statements(node.body)
        self.pop()

    # -- expressions ---------------------------------------------------------------------
    def expr(self, node: nodes.Node) -> Field:
        if isinstance(node, nodes.Name):
            return self.lookup(node, node.name)
        if isinstance(node, nodes.Const):
            return TEXT if isinstance(node.value, str) else NUMBER
        if isinstance(node, nodes.Getattr):
            return self.member(node, self.expr(node.node), node.attr)
        if isinstance(node, nodes.Getitem):
            return self.getitem(node)
        if isinstance(node, nodes.Call):
            return self.call(node)
        if isinstance(node, nodes.Filter | nodes.Test):
            return self.filter_or_test(node)
        if isinstance(node, nodes.Concat):
            self.children(node)
            return TEXT
        if isinstance(node, nodes.CondExpr):
            self.expr(node.test)
            chosen = self.expr(node.expr1)
            if node.expr2 is not None:
                self.expr(node.expr2)
            return chosen
        self.children(node)
        return ANY

    def children(self, node: nodes.Node) -> None:
        for child in node.iter_child_nodes():
            self.expr(child)

    def getitem(self, node: nodes.Getitem) -> Field:
        container = self.expr(node.node)
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return self.member(node, container, node.arg.value)
        self.expr(node.arg)
        if container.kind == Kind.list and container.item is not None:
            if isinstance(node.arg, nodes.Slice):
                return container
            return container.item
        return ANY

    def member(self, node: nodes.Getattr | nodes.Getitem, base: Field, name: str) -> Field:
        path = _dotted(node)
        if base is REFUSED:
            return REFUSED
        if name.startswith("_"):
            self.refuse(
                node, f"{path} is not allowed (names starting with _ lead out of the sandbox)"
            )
            return REFUSED
        kind = base.kind
        if name in FORBIDDEN_TEXT_METHODS and kind in (Kind.text, Kind.any):
            self.refuse(
                node,
                f"{path} is not allowed (format strings can reach "
                "attributes outside the sandbox); use ~ or the format filter",
            )
            return REFUSED
        if kind == Kind.any:
            return ANY
        if kind in (Kind.object, Kind.attributes):
            if name in base.fields:
                return base.fields[name]
            what = "custom attribute" if kind == Kind.attributes else "field"
            hint = _suggest(name, base.fields)
            if not hint and base.fields:
                hint = f" (known: {', '.join(sorted(base.fields))})"
            elif not base.fields:
                hint = " (no custom attributes are declared)"
            self.refuse(node, f"unknown {what} {path}{hint}")
            return ANY
        if kind == Kind.text:
            if name in TEXT_METHODS:
                return ANY
        elif kind == Kind.money and name in MONEY_FIELDS:
            return TEXT if name == "currency" else NUMBER
        elif kind == Kind.date and name in DATE_FIELDS:
            return ANY
        elif kind == Kind.list:
            self.refuse(
                node, f"{path}: {_dotted(node.node)} is a list; loop over it or take one item ([0])"
            )
            return ANY
        self.refuse(node, f"unknown field {path} ({kind.value} has no {name})")
        return ANY

    def call(self, node: nodes.Call) -> Field:
        callee = node.node
        self.expr(callee)
        for argument in self.arguments(node):
            self.expr(argument)
        if isinstance(callee, nodes.Name) and callee.name == "range":
            return Field(Kind.list, item=NUMBER)
        return ANY

    def arguments(self, node: nodes.Call | nodes.Filter | nodes.Test) -> Iterator[nodes.Expr]:
        yield from node.args
        for keyword in node.kwargs:
            yield keyword.value
        if node.dyn_args is not None:
            yield node.dyn_args
        if node.dyn_kwargs is not None:
            yield node.dyn_kwargs

    def filter_or_test(self, node: nodes.Filter | nodes.Test) -> Field:
        is_filter = isinstance(node, nodes.Filter)
        known = self.env.filters if is_filter else self.env.tests
        subject = self.expr(node.node) if node.node is not None else ANY
        if node.name in REMOVED_FILTERS and is_filter:
            self.refuse(node, f"the {node.name} filter is not allowed in email templates")
        elif node.name not in known:
            what = "filter" if is_filter else "test"
            self.refuse(node, f"unknown {what} {node.name}{_suggest(node.name, known)}")
        for argument in self.arguments(node):
            if isinstance(argument, nodes.Const) and (part := _private_part(argument.value)):
                self.refuse(
                    argument,
                    f"{part} is not allowed (names starting with _ lead out of the sandbox)",
                )
            self.expr(argument)
        if not is_filter:
            return ANY
        if node.name in _ELEMENT_FILTERS and subject.kind == Kind.list and subject.item:
            return subject.item
        if node.name in _SAME_FILTERS:
            return subject
        if node.name in _NUMBER_FILTERS:
            return NUMBER
        return TEXT if node.name not in {"map", "groupby", "dictsort", "items"} else ANY


def used_names(*sources: str) -> frozenset[str]:
    """The top-level variables ``sources`` read (for ``build_context(names=...)``); every
    name for a text that does not parse (it is refused anyway)."""
    return _used_names(sources)


@lru_cache(maxsize=64)
def _used_names(sources: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for source in sources:
        try:
            names |= meta.find_undeclared_variables(environment("html").parse(source))
        except (TemplateSyntaxError, RecursionError):
            return frozenset(context_fields())
    return frozenset(names)


def check_source(source: str, *, field: str, root: Mapping[str, Field]) -> list[Problem]:
    """Every problem of one template text (``field`` is ``subject`` or ``html``)."""
    env = environment(field)
    try:
        tree = env.parse(source)
        checker = _Checker(field, root)
        checker.statements(tree.body)
    except TemplateSyntaxError as error:
        return [Problem(field, error.lineno, error.message or "syntax error")]
    except RecursionError:
        return [Problem(field, None, "the template is nested too deeply")]
    return sorted(checker.problems, key=lambda p: p.line or 0)
