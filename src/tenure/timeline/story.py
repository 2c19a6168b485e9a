"""The timeline as a story: one line of words per event, for people to read.

``tell(event)`` turns an event dict (``timeline.queries``) into a headline and details:
a stage change says from and to, an order groups its items with quantities ("7 x Rock"
rather than seven "1 x Rock"), a segment entry names the segment, a logged call says its
direction, outcome and duration. Unknown types fall back to their name in words, so a new
event type needs no change here to show up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Filters of the timeline: the event types people pick from, in words.
TYPE_LABELS: dict[str, str] = {
    "order": "Orders",
    "refund": "Refunds",
    "call": "Calls",
    "meeting": "Meetings",
    "email": "Emails (logged)",
    "note_added": "Notes",
    "stage_changed": "Stage changes",
    "segment_entered": "Segment entries",
    "segment_exited": "Segment exits",
    "email_sent": "Emails sent",
    "email_opened": "Emails opened",
    "email_clicked": "Email clicks",
    "email_replied": "Email replies",
    "visit": "Visits",
    "chat": "Chats",
    "ticket_opened": "Tickets",
    "survey_answered": "Surveys",
    "complaint": "Complaints",
    "referral_converted": "Referrals",
}
CHANNEL_LABELS: dict[str, str] = {
    "web": "Web",
    "store": "Store",
    "email": "Email",
    "phone": "Phone",
    "meeting": "Meeting",
    "chat": "Chat",
    "sms": "SMS",
}


TIMES = "\u00d7"  # the multiplication sign, as in "7 x Rock"


@dataclass(frozen=True)
class Line:
    """What the timeline shows for one event."""

    headline: str
    details: list[str] = field(default_factory=list)
    quote: str | None = None
    #: A page inside Tenure the event points to (an email's stored body).
    href: str | None = None


def grouped_items(items: list[dict[str, Any]]) -> list[str]:
    """The items in words, "7 x Rock, 2 x Jazz" (with a multiplication sign): quantities
    summed per category (or SKU), first seen first."""
    totals: dict[str, int] = {}
    for item in items:
        name = item.get("category") or item.get("sku") or "item"
        totals[name] = totals.get(name, 0) + int(item.get("quantity") or 1)
    return [f"{quantity} {TIMES} {name}" for name, quantity in totals.items()]


def _duration(minutes: Any) -> str | None:
    if minutes is None:
        return None
    minutes = int(minutes)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


_ACTIVITY_NOUNS = {"call": "call", "meeting": "meeting", "email": "email"}


def _activity(event: dict[str, Any]) -> Line:
    payload = event["payload"]
    noun = _ACTIVITY_NOUNS[event["type"]]
    direction = payload.get("direction")
    headline = f"{direction.capitalize()} {noun}" if direction else noun.capitalize()
    details = [d for d in (payload.get("outcome"), _duration(payload.get("duration_minutes"))) if d]
    if payload.get("organization_name"):
        details.append(f"with {payload['organization_name']}")
    return Line(headline, details, payload.get("notes") or None)


def _stage(event: dict[str, Any]) -> Line:
    payload = event["payload"]
    before = payload.get("from_name") or payload.get("from")
    after = payload.get("to_name") or payload.get("to") or "?"
    headline = f"Stage: {before} → {after}" if before else f"Entered stage {after}"
    return Line(headline, [payload["reason"]] if payload.get("reason") else [])


def _segment(event: dict[str, Any], verb: str) -> Line:
    payload = event["payload"]
    name = payload.get("segment_name") or f"segment {payload.get('segment_id', '?')}"
    return Line(f"{verb} segment {name}")


#: Survey answers in words: the survey's name and the top of its scale.
_SURVEYS = {"nps": ("NPS", 10), "csat": ("CSAT", 5), "ces": ("CES", 7)}


def _nps_category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def _survey(payload: dict[str, Any]) -> Line:
    """ "NPS answer: 9 of 10", "promoter", with the comment quoted."""
    survey = str(payload.get("survey") or "").lower()
    name, top = _SURVEYS.get(survey, (survey.upper() or "Survey", None))
    score = payload.get("score")
    headline = f"{name} answer"
    details = []
    if isinstance(score, int) and not isinstance(score, bool):
        headline += f": {score} of {top}" if top else f": {score}"
        if survey == "nps":
            details.append(_nps_category(score))
    comment = payload.get("comment")
    return Line(headline, details, f"“{comment}”" if comment else None)


def _referral(payload: dict[str, Any]) -> Line:
    name = payload.get("referred_name")
    return Line("Referral converted", [f"brought {name}"] if name else [])


def tell(event: dict[str, Any]) -> Line:
    """The words for one event of ``timeline.queries.person_timeline``."""
    kind = event["type"]
    payload = event.get("payload") or {}
    if kind in _ACTIVITY_NOUNS and event.get("source") == "logged":
        return _activity({**event, "payload": payload})
    if kind == "stage_changed":
        return _stage({**event, "payload": payload})
    if kind == "segment_entered":
        return _segment({**event, "payload": payload}, "Entered")
    if kind == "segment_exited":
        return _segment({**event, "payload": payload}, "Left")
    if kind == "note_added":
        return Line("Note added", [], payload.get("body"))
    if kind == "survey_answered":
        return _survey(payload)
    if kind == "referral_converted":
        return _referral(payload)
    headline = kind.replace("_", " ").capitalize()
    details = grouped_items(event.get("items") or [])
    if kind == "email_clicked" and payload.get("link"):
        details.append(str(payload["link"]))
    quote = payload.get("subject")
    url = payload.get("url")
    href = url if isinstance(url, str) and url.startswith("/messages/") else None
    return Line(headline, details, f"“{quote}”" if quote else None, href)
