"""The MIME message of an outbox row: headers, the text and HTML parts, the links.

Marketing messages carry ``List-Unsubscribe`` (the https one-click URL, and a mailto when
a reply-to address is set) with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058), which the large mailbox providers require of bulk senders.
"""

from __future__ import annotations

import functools
from datetime import datetime
from email.utils import format_datetime, parseaddr

from tenure.config import Settings
from tenure.messaging.links import MessageLinks
from tenure.messaging.mime import address_header, header, list_header, message_bytes
from tenure.messaging.models import Message, Purpose
from tenure.messaging.templating.context import UNSUBSCRIBE_PLACEHOLDER


def envelope_sender(settings: Settings) -> str:
    """The bare address of ``mail_from``: the envelope sender, where bounces go."""
    return parseaddr(settings.mail_from)[1]


@functools.lru_cache(maxsize=16)
def _sender_headers(mail_from: str, reply_to: str | None) -> str:
    """From and Reply-To: the same on every message, folded once."""
    return address_header("From", mail_from) + (
        address_header("Reply-To", reply_to) if reply_to else ""
    )


def compose(message: Message, *, settings: Settings, links: MessageLinks, now: datetime) -> bytes:
    """The message as sent (CRLF line ends), ``mime.message_bytes``."""
    headers = [
        _sender_headers(settings.mail_from, settings.mail_reply_to),
        address_header("To", message.to_address),
        header("Subject", message.subject),
        header("Date", format_datetime(now)),
        header("Message-ID", message.message_id_header),
    ]
    if message.purpose == Purpose.marketing.value:
        targets = [f"<{links.unsubscribe_url}>"]
        reply_to = parseaddr(settings.mail_reply_to or "")[1]
        if reply_to:
            targets.append(f"<mailto:{reply_to}?subject=unsubscribe>")
        headers.append(list_header("List-Unsubscribe", targets))
        headers.append(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    # A template's {{ unsubscribe_url }} is rendered as a placeholder: this message's link.
    text = message.text.replace(UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe_url)
    body = message.html.replace(UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe_url)
    if text and message.purpose == Purpose.marketing.value:
        # Readers of the plain part (and clients that hide List-Unsubscribe) get the link too.
        text = f"{text.rstrip()}\n\n--\nUnsubscribe: {links.unsubscribe_url}\n"
    html = links.tracked_html(body) if body else ""
    # queue_email refuses a message with neither part.
    return message_bytes("".join(headers), text, html)
