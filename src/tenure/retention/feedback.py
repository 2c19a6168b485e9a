"""Reading ``survey_answered`` payloads: the survey, the score and whether a comment is negative.

Payloads come from many sources (the feedback capability, imports, webhooks), so they are
read defensively: a score given as text is parsed, anything unreadable is ignored. A
comment is negative when the payload says so (``sentiment`` of ``negative`` or a number
below -0.05, as set by verbatim analysis) or, failing that, when it holds a word from a
short English lexicon of complaint words that is not negated ("not bad" is not negative,
"not happy" is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NEGATIVE_WORDS = frozenset(
    {
        "angry", "annoyed", "annoying", "appalling", "awful", "bad", "broken", "cancel",
        "cancelled", "cancelling", "complain", "complaint", "disappointed", "disappointing",
        "disgusted", "dreadful", "frustrated", "frustrating", "horrible", "incompetent",
        "late", "lost", "mess", "poor", "refund", "rude", "scam", "slow", "terrible",
        "unacceptable", "unhappy", "unreliable", "useless", "waste", "worse", "worst", "wrong",
    }
)  # fmt: skip
POSITIVE_WORDS = frozenset(
    {"good", "great", "happy", "helpful", "pleased", "satisfied", "fast", "friendly", "easy"}
)
NEGATIONS = frozenset({"not", "no", "never", "hardly", "isn't", "wasn't", "didn't", "don't"})
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
#: How many words before a sentiment word a negation still applies to ("not at all bad").
NEGATION_REACH = 3
EXCERPT_CHARS = 80


@dataclass(frozen=True)
class Answer:
    survey: str | None
    score: int | None
    comment: str | None
    negative_comment: bool


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def comment_is_negative(comment: str) -> bool:
    """A complaint word not negated nearby, or a negated praise word."""
    words = _WORD.findall(comment.lower())
    for i, word in enumerate(words):
        negated = any(w in NEGATIONS for w in words[max(0, i - NEGATION_REACH) : i])
        if word in NEGATIVE_WORDS and not negated:
            return True
        if word in POSITIVE_WORDS and negated:
            return True
    return False


def _stated_sentiment(payload: dict[str, Any]) -> bool | None:
    sentiment = payload.get("sentiment")
    if isinstance(sentiment, str):
        return sentiment.strip().lower() == "negative"
    if isinstance(sentiment, int | float) and not isinstance(sentiment, bool):
        return float(sentiment) < -0.05
    return None


def read_answer(payload: Any) -> Answer:
    """The parts of a survey answer that retention uses; missing parts are None."""
    if not isinstance(payload, dict):
        return Answer(None, None, None, False)
    survey = payload.get("survey")
    survey = survey.strip().lower() if isinstance(survey, str) else None
    comment = payload.get("comment")
    comment = comment.strip() if isinstance(comment, str) and comment.strip() else None
    stated = _stated_sentiment(payload)
    if stated is not None:
        negative = stated and comment is not None
    else:
        negative = comment is not None and comment_is_negative(comment)
    return Answer(survey, _score(payload.get("score")), comment, negative)


def excerpt(comment: str) -> str:
    """The comment on one line, cut at a word boundary near EXCERPT_CHARS."""
    flat = " ".join(comment.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    return flat[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"
