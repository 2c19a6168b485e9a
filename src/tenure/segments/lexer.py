"""The tokens of the segment filter language (see ``tenure.segments.parser``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tenure.segments.syntax import FilterError, Moment

TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<moment>\d{4}-\d{2}-\d{2}
        (?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?)
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<op>!=|<>|<=|>=|=|<|>|~)
    |(?P<punct>[(),.])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t"}


@dataclass(frozen=True)
class Token:
    kind: str  # name, string, number, moment, op, punct, end
    text: str
    pos: int

    def describe(self) -> str:
        return "end of input" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = TOKEN_PATTERN.match(text, pos)
        if match is None:
            if text[pos] in "\"'":
                raise FilterError(pos, "unterminated string", [f"a closing {text[pos]}"])
            raise FilterError(pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def unquote(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def moment(token: Token) -> Moment:
    try:
        if len(token.text) == 10:
            day = date.fromisoformat(token.text)
            return Moment(datetime(day.year, day.month, day.day, tzinfo=UTC), token.pos, True)
        value = datetime.fromisoformat(token.text)
    except ValueError:
        raise FilterError(token.pos, f"{token.text} is not a valid date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return Moment(value.astimezone(UTC), token.pos, False)
