"""Reading bounce and complaint reports, ready for inbound mail: RFC 3464 delivery status
notifications (DSN) and RFC 5965 feedback reports (ARF), with the stdlib ``email`` package.

A DSN is a ``multipart/report; report-type=delivery-status`` whose
``message/delivery-status`` part holds one block of per-message fields (Reporting-MTA,
...) and one block per recipient (Final-Recipient, Action, Status, Diagnostic-Code,
...). The Status is an RFC 3463 enhanced code: class 5 (``5.1.1`` no such user) is a
permanent failure, a **hard** bounce; class 4 (``4.2.2`` mailbox full) a temporary one,
a **soft** bounce; class 2 is a delivery. Mailbox providers send complaints ("this is
spam") as ``multipart/report; report-type=feedback-report`` with a
``message/feedback-report`` part (Feedback-Type ``abuse``, Original-Rcpt-To) and the
original message or its headers, whose Message-ID names the message complained about.

:func:`parse_report` never raises: anything else (a reply, a truncated report, bytes that
are not mail) is a :class:`Report` of kind ``not_a_report`` with the reason. Nothing
here is wired to an inbound mailbox yet.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from enum import StrEnum

# RFC 3463: class.subject.detail; class 2 success, 4 persistent transient, 5 permanent.
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# An SMTP reply code at the start of a diagnostic ("smtp; 550 ..."), when there is no Status.
_REPLY = re.compile(r"^\s*([245])\d\d\b")


class ReportKind(StrEnum):
    delivery_status = "delivery_status"
    complaint = "complaint"
    not_a_report = "not_a_report"


class Bounce(StrEnum):
    hard = "hard"  # 5.x.x: the address will not work; suppress it
    soft = "soft"  # 4.x.x: try again later (mailbox full, server unreachable)


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's block of a DSN."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed or expanded (lower case)
    status: str | None  # the enhanced status code, e.g. "5.1.1"
    bounce: Bounce | None  # None for a delivery (2.x.x) or no code at all
    diagnostic_code: str | None = None  # e.g. "smtp; 550 5.1.1 ... User unknown"
    original_recipient: str | None = None
    remote_mta: str | None = None


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    #: Why the message is not a report (``not_a_report`` only).
    reason: str | None = None
    recipients: tuple[RecipientStatus, ...] = ()
    reporting_mta: str | None = None
    #: The Message-ID of the message the report is about (from the returned message or
    #: its headers), with its angle brackets: how the sender finds what it sent.
    original_message_id: str | None = None
    #: Complaints: abuse, fraud, virus, other, ...
    feedback_type: str | None = None
    #: Complaints: who complained (Original-Rcpt-To, else the original message's To).
    complained_recipients: tuple[str, ...] = field(default=())
    source_ip: str | None = None

    @property
    def hard_bounces(self) -> tuple[RecipientStatus, ...]:
        return tuple(r for r in self.recipients if r.bounce is Bounce.hard)

    @property
    def soft_bounces(self) -> tuple[RecipientStatus, ...]:
        return tuple(r for r in self.recipients if r.bounce is Bounce.soft)


def _not_a_report(reason: str) -> Report:
    return Report(kind=ReportKind.not_a_report, reason=reason)


def _text(value: object) -> str | None:
    """A header value with its folding whitespace collapsed, or None when empty."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _address(value: object) -> str | None:
    """``rfc822; user@example.com`` (a typed address field) -> ``user@example.com``."""
    text = _text(value)
    if text is None:
        return None
    _, _, address = text.rpartition(";")
    address = address.strip().strip("<>").strip()
    return address or None


def classify(status: str | None, diagnostic: str | None = None) -> tuple[str | None, Bounce | None]:
    """The enhanced status code and the bounce it means; from the diagnostic's code (an
    enhanced code, else an SMTP reply code) when the Status field is missing or malformed."""
    match = _STATUS.search(status or "") or _STATUS.search(diagnostic or "")
    if match:
        code = ".".join(match.groups())
        klass = match.group(1)
    else:
        _, _, reply = (diagnostic or "").partition(";")
        found = _REPLY.match(reply or diagnostic or "")
        if not found:
            return None, None
        code, klass = None, found.group(1)
    bounce = {"5": Bounce.hard, "4": Bounce.soft}.get(klass)
    return code, bounce


def _part(message: Message, content_type: str) -> Message | None:
    """The first top-level part of ``content_type`` (reports do not nest)."""
    parts = message.get_payload()
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, Message) and part.get_content_type() == content_type:
            return part
    return None


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):  # a parser that kept it as text: read it as headers
        return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\n\s*\n", payload)]
    return []


def _original_headers(message: Message) -> Message | None:
    """The returned message (message/rfc822) or its headers (text/rfc822-headers)."""
    returned = _part(message, "message/rfc822")
    if returned is not None:
        payload = returned.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
    headers = _part(message, "text/rfc822-headers")
    if headers is not None:
        text = headers.get_payload(decode=True)
        if isinstance(text, bytes):
            return HeaderParser().parsestr(text.decode("utf-8", "replace"))
    return None


def _delivery_status(message: Message) -> Report:
    part = _part(message, "message/delivery-status")
    if part is None:
        return _not_a_report("a delivery-status report without its message/delivery-status part")
    blocks = _blocks(part)
    if not blocks:
        return _not_a_report("the message/delivery-status part is empty")
    per_message, per_recipient = blocks[0], blocks[1:]
    recipients = []
    for block in per_recipient:
        recipient = _address(block.get("Final-Recipient"))
        if recipient is None:
            continue  # RFC 3464 requires it; a block without it names nobody
        diagnostic = _text(block.get("Diagnostic-Code"))
        status, bounce = classify(_text(block.get("Status")), diagnostic)
        action = (_text(block.get("Action")) or "").lower()
        if action in ("delivered", "relayed", "expanded"):
            bounce = None
        recipients.append(
            RecipientStatus(
                recipient=recipient,
                action=action,
                status=status,
                bounce=bounce,
                diagnostic_code=diagnostic,
                original_recipient=_address(block.get("Original-Recipient")),
                remote_mta=_address(block.get("Remote-MTA")),
            )
        )
    if not recipients:
        return _not_a_report("the delivery-status report names no recipient (Final-Recipient)")
    original = _original_headers(message)
    return Report(
        kind=ReportKind.delivery_status,
        recipients=tuple(recipients),
        reporting_mta=_address(per_message.get("Reporting-MTA")),
        original_message_id=_text(original.get("Message-ID")) if original is not None else None,
    )


def _complaint(message: Message) -> Report:
    part = _part(message, "message/feedback-report")
    if part is None:
        return _not_a_report("a feedback report without its message/feedback-report part")
    blocks = _blocks(part)
    fields = blocks[0] if blocks else None
    feedback_type = _text(fields.get("Feedback-Type")) if fields is not None else None
    if fields is None or feedback_type is None:
        return _not_a_report("the feedback report has no Feedback-Type")
    original = _original_headers(message)
    complained = [
        address
        for value in fields.get_all("Original-Rcpt-To") or []
        if (address := _address(value)) is not None
    ]
    if not complained and original is not None:
        complained = [a for _, a in getaddresses(original.get_all("To") or []) if a]
    return Report(
        kind=ReportKind.complaint,
        feedback_type=feedback_type.lower(),
        complained_recipients=tuple(complained),
        reporting_mta=_address(fields.get("Reporting-MTA")),
        original_message_id=_text(original.get("Message-ID")) if original is not None else None,
        source_ip=_text(fields.get("Source-IP")),
    )


def parse_report(raw: bytes | str) -> Report:
    """What ``raw`` (a whole email) reports; ``not_a_report`` with a reason, never an
    exception, for anything else."""
    try:
        if isinstance(raw, str):
            message = email.message_from_string(raw, policy=email.policy.compat32)
        else:
            message = email.message_from_bytes(raw, policy=email.policy.compat32)
        if message.get_content_type() != "multipart/report":
            return _not_a_report(f"a {message.get_content_type()} message, not multipart/report")
        report_type = str(message.get_param("report-type") or "").lower()
        if report_type == "delivery-status":
            return _delivery_status(message)
        if report_type == "feedback-report":
            return _complaint(message)
        return _not_a_report(f"a report of type {report_type or '(none)'!r}")
    except Exception as error:  # malformed mail of every kind: reported, never raised
        return _not_a_report(f"unreadable: {type(error).__name__}: {error}")
