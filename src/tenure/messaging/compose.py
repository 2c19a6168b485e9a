"""The MIME message of an outbox row: headers, the text and HTML parts, the links.

Marketing messages carry ``List-Unsubscribe`` (the https one-click URL, and a mailto when
a reply-to address is set) with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058), which the large mailbox providers require of bulk senders.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from tenure.config import Settings
from tenure.messaging.links import MessageLinks
from tenure.messaging.models import Message, Purpose
from tenure.messaging.templating.context import UNSUBSCRIBE_PLACEHOLDER


def envelope_sender(settings: Settings) -> str:
    """The bare address of ``mail_from``: the envelope sender, where bounces go."""
    return parseaddr(settings.mail_from)[1]


def compose(message: Message, *, settings: Settings, links: MessageLinks, now: datetime) -> bytes:
    mime = EmailMessage()
    mime["From"] = settings.mail_from
    mime["To"] = Address(addr_spec=message.to_address)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = message.message_id_header
    if settings.mail_reply_to:
        mime["Reply-To"] = settings.mail_reply_to
    if message.purpose == Purpose.marketing.value:
        targets = [f"<{links.unsubscribe_url}>"]
        reply_to = parseaddr(settings.mail_reply_to or "")[1]
        if reply_to:
            targets.append(f"<mailto:{reply_to}?subject=unsubscribe>")
        mime["List-Unsubscribe"] = ", ".join(targets)
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # A template's {{ unsubscribe_url }} is rendered as a placeholder: this message's link.
    text = message.text.replace(UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe_url)
    body = message.html.replace(UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe_url)
    if text and message.purpose == Purpose.marketing.value:
        # Readers of the plain part (and clients that hide List-Unsubscribe) get the link too.
        text = f"{text.rstrip()}\n\n--\nUnsubscribe: {links.unsubscribe_url}\n"
    html = links.tracked_html(body) if body else ""
    if text:
        mime.set_content(text)
        if html:
            mime.add_alternative(html, subtype="html")
    else:  # HTML only (queue_email refuses a message with neither)
        mime.set_content(html, subtype="html")
    return mime.as_bytes(policy=SMTP_POLICY)
