"""Email archives: an .eml message or an .mbox file, each message an event on a timeline.

Direction rule: a message is ``email_sent`` when its From address is a workspace user's
address or belongs to one of the workspace's own domains (the domains of the users'
addresses, public webmail domains excepted, plus any given with ``our_domains``); it is
then put on the timeline of the first To (else Cc) recipient outside the workspace.
Every other message is ``email_received``, on the timeline of its sender. The person is
matched by email and created when unknown (``timeline.ingest``). A message sent only
between colleagues has no customer and is rejected with that reason.

The Message-ID is the event's ``client_event_id`` (source ``email``), so importing the
same archive again stores nothing twice; a message without one gets a stable id from the
SHA-256 of its bytes. The payload keeps the subject, a text body (the text/plain part,
or the HTML part stripped to text), the direction, the addresses, Message-ID,
In-Reply-To, References and the names of the attachments.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.identity.models import User
from tenure.ingest.csv_import import Opener, file_sha256
from tenure.ingest.drafts import Problem
from tenure.ingest.people_upsert import Issue, Outcome
from tenure.ingest.records import ImportSpec
from tenure.timeline.append import append_events

# Domains of users who sign up with a personal address say nothing about who is "us".
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "yandex.ru",
        "mail.ru",
    }
)
BODY_LIMIT = 20_000  # characters of body kept in the payload; the archive keeps the rest
_PARSER = BytesParser(policy=policy.default)


@dataclass
class EventDraft:
    line: int
    event: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)


class _TextExtractor(HTMLParser):
    """HTML to readable text: block elements become line breaks, scripts and styles go."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    text = html.unescape("".join(extractor.parts))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return str(part.get_content()).strip()
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(str(part.get_content()))
    return ""


def _attachments(message: EmailMessage) -> list[str]:
    return [str(p.get_filename()) for p in message.iter_attachments() if p.get_filename()]


def _addresses(message: EmailMessage, header: str) -> list[str]:
    values = [str(v) for v in message.get_all(header, [])]
    return [addr.strip().lower() for _, addr in getaddresses(values) if "@" in addr]


@dataclass
class EmailSource:
    opener: Opener
    spec: ImportSpec
    our_addresses: set[str]
    our_domains: set[str]
    total_bytes: int = 0
    bytes_read: int = 0

    def attribute_keys(self) -> set[str]:
        return set()

    def records(self) -> Iterator[tuple[int, bytes]]:
        """Messages with the line they start on; an mbox is split on its "From " lines."""
        with self.opener() as handle:
            first = handle.readline()
            self.bytes_read = len(first)
            if not first.startswith(b"From "):
                yield 1, first + handle.read()
                self.bytes_read = self.total_bytes
                return
            start, previous_blank = 1, True
            lines: list[bytes] = []
            for number, raw in enumerate(handle, start=2):
                self.bytes_read += len(raw)
                if raw.startswith(b"From ") and previous_blank:
                    yield start, b"".join(lines)
                    start, lines = number, []
                else:
                    # mboxrd quoting: ">From " lines in a body were "From " lines.
                    lines.append(raw[1:] if re.match(rb"^>+From ", raw) else raw)
                previous_blank = raw.strip() == b""
            yield start, b"".join(lines)

    def build(self, record: tuple[int, bytes]) -> EventDraft:
        line, raw = record
        draft = EventDraft(line=line)
        message = _PARSER.parsebytes(raw)
        assert isinstance(message, EmailMessage)
        senders = _addresses(message, "From")
        to, cc = _addresses(message, "To"), _addresses(message, "Cc")
        if not senders:
            draft.problems.append(Problem("From", "has no email address"))
            return draft
        sender = senders[0]
        if self._is_ours(sender):
            direction = "sent"
            counterpart = next((a for a in [*to, *cc] if not self._is_ours(a)), None)
            if counterpart is None:
                draft.problems.append(
                    Problem("To", "every recipient is in the workspace: no customer to file it on")
                )
                return draft
        else:
            direction, counterpart = "received", sender
        try:
            occurred = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError, IndexError):
            draft.problems.append(Problem("Date", f"{message['Date']!r} is not a date"))
            return draft
        if occurred.tzinfo is None:  # RFC 5322 says "-0000": time zone unknown; read as UTC
            occurred = occurred.replace(tzinfo=UTC)
        message_id = str(message["Message-ID"] or "").strip()
        if not message_id or len(message_id) > 200:
            message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        draft.event = {
            "type": f"email_{direction}",
            "occurred_at": occurred.isoformat(),
            "source": "email",
            "client_event_id": message_id,
            "channel": "email",
            "email": counterpart,
            "payload": {
                "direction": direction,
                "subject": str(message["Subject"] or ""),
                "from": sender,
                "to": to,
                "cc": cc,
                "body": _body(message)[:BODY_LIMIT],
                "message_id": str(message["Message-ID"] or "").strip() or None,
                "in_reply_to": str(message["In-Reply-To"] or "").strip() or None,
                "references": str(message["References"] or "").split(),
                "attachments": _attachments(message),
            },
        }
        return draft

    def _is_ours(self, address: str) -> bool:
        return address in self.our_addresses or address.rsplit("@", 1)[-1] in self.our_domains


class EventUpserter:
    """Appends the events of a chunk through timeline.ingest (idempotent per Message-ID).

    Counts: ``created`` events stored, ``unchanged`` messages imported before.
    """

    def __init__(self, *, actor_id: int | None) -> None:
        self.actor_id = actor_id

    def forget_uncommitted(self) -> None:
        """No cache to drop."""

    def apply_chunk(self, session: Session, drafts: Sequence[EventDraft]) -> Outcome:
        outcome = Outcome()
        events: list[dict[str, Any]] = []
        lines: list[int] = []
        for draft in drafts:
            if draft.event is None:
                outcome.rejected += 1
                outcome.issues.extend(
                    Issue(draft.line, "rejected", p.column, p.reason) for p in draft.problems
                )
            else:
                events.append(draft.event)
                lines.append(draft.line)
        if not events:
            return outcome
        result = append_events(session=session, raw_items=events, actor_id=self.actor_id)
        outcome.created += result.stored
        outcome.unchanged += len(result.duplicates)
        for item in result.rejected:
            outcome.rejected += 1
            outcome.issues.extend(
                Issue(lines[item.index], "rejected", p.field, p.reason) for p in item.errors
            )
        return outcome


def workspace_addresses(session: Session) -> tuple[set[str], set[str]]:
    emails = {e.lower() for e in session.scalars(select(User.email))}
    domains = {e.rsplit("@", 1)[-1] for e in emails} - WEBMAIL_DOMAINS
    return emails, domains


def email_source(
    session: Session, *, opener: Opener, file_name: str, our_domains: Sequence[str] = ()
) -> EmailSource:
    sha256, size = file_sha256(opener)
    addresses, domains = workspace_addresses(session)
    extra = sorted({d.strip().lower().lstrip("@") for d in our_domains if d.strip()})
    spec = ImportSpec(
        file_name=file_name,
        file_sha256=sha256,
        format="email",
        entity="event",
        options={"our_domains": extra} if extra else {},
    )
    return EmailSource(
        opener=opener,
        spec=spec,
        our_addresses=addresses,
        our_domains=domains | set(extra),
        total_bytes=size,
    )
