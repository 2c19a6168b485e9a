"""The segment filter language: a hand-written lexer and recursive-descent parser.

Hand-written rather than generated (lark was the alternative): the grammar is small,
and owning each rule lets every error name the 0-based position and the tokens that would
have been accepted there ("expected one of =, !=, <, ... at position 17"), which is what
the builder page shows while someone types. It also adds no dependency.

Grammar (EBNF; keywords are case-insensitive, ``"..."`` are literal tokens)::

    filter      = expression , END ;
    expression  = conjunction , { "or" , conjunction } ;
    conjunction = negation , { "and" , negation } ;
    negation    = "not" , negation | primary ;
    primary     = "(" , expression , ")" | condition ;
    condition   = "has" , field
                | "consent" , "(" , word , "," , word , ")"
                | operand , predicate ;
    predicate   = compare_op , literal
                | [ "not" ] , "in" , "(" , literal , { "," , literal } , ")"
                | "~" , string
                | "within" , [ "last" | "next" ] , span ;
    compare_op  = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
    operand     = aggregate | field ;
    field       = name , { "." , name } ;
    aggregate   = ( "count" | "sum" | "avg" | "min" | "max" | "first" | "last" ) ,
                  "(" , events , [ "," , window ] , ")" ;
    events      = ( "any" | word ) , [ "." , "amount" ] , [ "via" , word ] ;
    window      = "last" , span | "since" , date | "between" , date , "and" , date ;
    span        = integer , unit ;
    unit        = "hour" | "hours" | "day" | "days" | "week" | "weeks"
                | "month" | "months" | "year" | "years" ;
    literal     = string | number | date | "true" | "false" ;
    word        = name | string ;
    name        = ( letter | "_" ) , { letter | digit | "_" } ;
    string      = '"' , { any character but '"' or '\\' | '\\' , any character } , '"'
                | "'" , ( the same with "'" ) , "'" ;
    number      = [ "-" ] , digit , { digit } , [ "." , digit , { digit } ] ;
    date        = digit*4 , "-" , digit*2 , "-" , digit*2 ,
                  [ "T" , hh , ":" , mm , [ ":" , ss ] , [ "Z" | ( "+" | "-" ) , hh , ":" , mm ] ] ;

``not`` binds tighter than ``and``, which binds tighter than ``or``. What the fields mean
and how values compare is the compiler's business (``tenure.segments.compiler``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from tenure.segments.lexer import Token, tokenize, unquote
from tenure.segments.lexer import moment as moment_literal
from tenure.segments.syntax import (
    Aggregate,
    And,
    Boolean,
    Compare,
    Consent,
    Events,
    Field,
    FilterError,
    Has,
    Literal,
    Moment,
    Node,
    Not,
    Number,
    Operand,
    Or,
    Span,
    String,
    Window,
    one_of,
)

T = TypeVar("T")

MAX_LENGTH = 4000
# Deep nesting is a mistake or an attack on the recursion limit; 40 levels is plenty.
MAX_DEPTH = 40

AGGREGATES = ("count", "sum", "avg", "min", "max", "first", "last")
UNITS = {
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
COMPARE_OPS = ("=", "!=", "<>", "<", "<=", ">", ">=")
PREDICATES = ("=", "!=", "<", "<=", ">", ">=", "~", "in", "not in", "within")
#: The logical words of the filter language: never a value left unquoted.
FILTER_WORDS = ("and", "or", "not", "in")
LITERAL_HINT = 'a value ("text", a number, a date like 2024-01-31, true or false)'


def parse(text: str) -> Node:
    """The syntax tree of ``text``, or :class:`FilterError` with the position."""
    if len(text) > MAX_LENGTH:
        raise FilterError(MAX_LENGTH, f"a filter is at most {MAX_LENGTH} characters")
    if not text.strip():
        raise FilterError(0, "the filter is empty", ['a condition such as tag = "vip"'])
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    # Token helpers ----------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, *words: str, token: Token | None = None) -> bool:
        token = token or self.token
        return token.kind == "name" and token.text.lower() in words

    def at(self, kind: str, text: str) -> bool:
        return self.token.kind == kind and self.token.text == text

    def fail(self, problem: str, expected: list[str] | tuple[str, ...]) -> FilterError:
        sentence = f"expected {one_of(expected)}, found {self.token.describe()}"
        return FilterError(
            self.token.pos, f"{problem}: {sentence}" if problem else sentence, expected
        )

    def expect(self, kind: str, text: str, problem: str) -> Token:
        if not self.at(kind, text):
            raise self.fail(problem, [repr(text)])
        return self.advance()

    def expect_keyword(self, word: str, problem: str) -> Token:
        if not self.at_keyword(word):
            raise self.fail(problem, [repr(word)])
        return self.advance()

    # Rules ------------------------------------------------------------------------------

    def parse(self) -> Node:
        node = self.expression()
        if self.token.kind != "end":
            expected = ["'and'", "'or'", "end of input"]
            if self.depth == 0 and self.at("punct", ")"):
                raise self.fail("unbalanced ')'", expected)
            raise self.fail("", expected)
        return node

    def expression(self) -> Node:
        start = self.token.pos
        items = [self.conjunction()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items), start)

    def conjunction(self) -> Node:
        start = self.token.pos
        items = [self.negation()]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items), start)

    def negation(self) -> Node:
        if self.at_keyword("not"):
            start = self.advance().pos
            return Not(self.nested(self.negation), start)
        return self.primary()

    def nested(self, rule: Callable[[], T]) -> T:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(self.token.pos, f"nested more than {MAX_DEPTH} levels deep")
        try:
            return rule()
        finally:
            self.depth -= 1

    def primary(self) -> Node:
        if self.at("punct", "("):
            self.advance()
            node: Node = self.nested(self.expression)
            if not self.at("punct", ")"):
                raise self.fail("missing ')'", ["')'", "'and'", "'or'"])
            self.advance()
            return node
        return self.condition()

    def condition(self) -> Node:
        token = self.token
        if token.kind != "name":
            raise self.fail(
                "",
                ["a field such as tag or clv", "has", "not", "'('", "count(...)", "consent(...)"],
            )
        following = self.peek()
        if self.at_keyword("has") and following.kind == "name":
            self.advance()
            return Has(self.field(), token.pos)
        if self.at_keyword("consent") and following.kind == "punct" and following.text == "(":
            return self.consent()
        operand: Operand
        if self.at_keyword(*AGGREGATES) and following.kind == "punct" and following.text == "(":
            operand = self.aggregate()
        else:
            operand = self.field()
        return self.predicate(operand)

    def consent(self) -> Consent:
        start = self.advance().pos
        self.expect("punct", "(", "consent takes (channel, purpose)")
        channel = self.word("a channel such as email")
        self.expect("punct", ",", "consent takes (channel, purpose)")
        purpose = self.word("a purpose such as marketing")
        self.expect("punct", ")", "consent takes (channel, purpose)")
        return Consent(channel, purpose, start)

    def field(self) -> Field:
        start = self.token
        parts = [self.name("a field name")]
        while self.at("punct", "."):
            self.advance()
            parts.append(self.name(f"a name after '{'.'.join(parts)}.'"))
        return Field(tuple(parts), start.pos)

    def name(self, what: str) -> str:
        if self.token.kind != "name":
            raise self.fail("", [what])
        return self.advance().text

    def word(self, what: str) -> str:
        if self.token.kind == "name":
            return self.advance().text
        if self.token.kind == "string":
            return unquote(self.advance().text)
        raise self.fail("", [what])

    def aggregate(self) -> Aggregate:
        function_token = self.advance()
        function = function_token.text.lower()
        self.expect("punct", "(", f"{function} takes (events[, window])")
        events = self.events(function)
        window = None
        if self.at("punct", ","):
            self.advance()
            window = self.window()
        if not self.at("punct", ")"):
            expected = ["','", "')'"] if window is None else ["')'"]
            raise self.fail(f"{function}(...) is not closed", expected)
        self.advance()
        return Aggregate(function, events, window, function_token.pos)

    def events(self, function: str) -> Events:
        start = self.token.pos
        if self.at_keyword("any"):
            self.advance()
            event_type = None
        else:
            event_type = self.word("an event type such as order, or any")
        measure = None
        if self.at("punct", "."):
            self.advance()
            if not self.at_keyword("amount"):
                raise self.fail("events have one measure", ["amount"])
            self.advance()
            measure = "amount"
        channel = None
        if self.at_keyword("via"):
            self.advance()
            channel = self.word("a channel such as email")
        return Events(event_type, channel, measure, start)

    def window(self) -> Window:
        start = self.token.pos
        if self.at_keyword("last"):
            self.advance()
            return Window("last", start, span=self.span())
        if self.at_keyword("since"):
            self.advance()
            return Window("since", start, start=self.moment())
        if self.at_keyword("between"):
            self.advance()
            first = self.moment()
            self.expect_keyword("and", "between takes two dates joined by and")
            second = self.moment()
            if second.value < first.value:
                raise FilterError(second.pos, "the second date is before the first")
            return Window("between", start, start=first, end=second)
        raise self.fail("", ["a window: last 90 days, since <date> or between <date> and <date>"])

    def span(self) -> Span:
        token = self.token
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail("", ["a whole number such as 30"])
        amount = int(self.advance().text)
        if not 0 < amount <= 100_000:
            raise FilterError(token.pos, "a span is from 1 to 100000 units")
        unit_token = self.token
        if unit_token.kind != "name" or unit_token.text.lower() not in UNITS:
            raise self.fail("", ["hours", "days", "weeks", "months", "years"])
        self.advance()
        return Span(amount, UNITS[unit_token.text.lower()], token.pos)

    def moment(self) -> Moment:
        token = self.token
        if token.kind != "moment":
            raise self.fail("", ["a date like 2024-01-31"])
        self.advance()
        return moment_literal(token)

    def predicate(self, operand: Operand) -> Compare:
        token = self.token
        if token.kind == "op":
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            if op == "~":
                value = self.literal()
                if not isinstance(value, String):
                    raise FilterError(value.pos, "'~' takes text", ['"text"'])
                return Compare(operand, "~", value, token.pos)
            return Compare(operand, op, self.literal(), token.pos)
        if self.at_keyword("in"):
            self.advance()
            return Compare(operand, "in", self.literal_list(), token.pos)
        if self.at_keyword("not") and self.at_keyword("in", token=self.peek()):
            self.advance()
            self.advance()
            return Compare(operand, "not in", self.literal_list(), token.pos)
        if self.at_keyword("within"):
            self.advance()
            direction = "last"
            if self.at_keyword("last", "next"):
                direction = self.advance().text.lower()
            return Compare(operand, "within", self.span(), token.pos, direction=direction)
        what = operand.name if isinstance(operand, Field) else f"{operand.function}(...)"
        raise self.fail(f"{what} needs a comparison", [repr(p) for p in PREDICATES])

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect("punct", "(", "in takes a list in parentheses")
        values = [self.literal()]
        while self.at("punct", ","):
            self.advance()
            values.append(self.literal())
        if not self.at("punct", ")"):
            raise self.fail("the list is not closed", ["','", "')'"])
        self.advance()
        return tuple(values)

    def literal(self) -> Literal:
        token = self.token
        if token.kind == "string":
            self.advance()
            return String(unquote(token.text), token.pos)
        if token.kind == "number":
            self.advance()
            return Number(Decimal(token.text), token.pos)
        if token.kind == "moment":
            self.advance()
            return moment_literal(token)
        if self.at_keyword("true", "false"):
            self.advance()
            return Boolean(token.text.lower() == "true", token.pos)
        # A bare word is text without its quotes ("tag = vip"), unless it is a word of the
        # language: "tag = and ..." lacks its value; "quote it" would read as nonsense.
        if token.kind == "name" and not self.at_keyword(*FILTER_WORDS):
            raise self.fail("text values are quoted", [f'"{token.text}"'])
        raise self.fail("", [LITERAL_HINT])
