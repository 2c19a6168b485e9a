"""Signed links in emails: one-click unsubscribe, the open pixel and click redirects.

Tokens are signed with the instance secret (``TENURE_SECRET_KEY``, else the key ``tenure
init`` stores, ``identity.secret_key``) through itsdangerous, one salt per kind of link,
so a click token cannot pass for an unsubscribe token. They do not expire: an email stays
in an inbox for years and its unsubscribe link must keep working (RFC 8058). A click token
carries its destination, so the redirect goes only where Tenure itself sent the reader:
no open redirect.
"""

from __future__ import annotations

import functools
import html as html_module
import re
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.identity.secret_key import ensure_secret_key

UNSUBSCRIBE = "tenure.email.unsubscribe"
OPEN = "tenure.email.open"
CLICK = "tenure.email.click"

# href="http(s)://..." in an HTML body; the template's own markup, so a plain pattern does.
_HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"'\s>]+)\2""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def signing_key(session: Session, settings: Settings) -> str:
    return settings.secret_key or ensure_secret_key(session)


@functools.lru_cache(maxsize=32)
def _serializer(key: str, salt: str) -> URLSafeSerializer:
    # Built once per key and salt: a bulk send signs two or three links a message.
    return URLSafeSerializer(key, salt=salt)


def sign(key: str, salt: str, value: Any) -> str:
    return str(_serializer(key, salt).dumps(value))


def unsign(key: str, salt: str, token: str) -> Any:
    """The signed value, or InvalidInput("token") for a forged or damaged token."""
    try:
        return _serializer(key, salt).loads(token)
    except BadSignature:
        raise InvalidInput("token", "is not a valid link (damaged or forged)")


def safe_destination(url: str) -> str:
    """``url`` if it is an absolute http(s) address, else InvalidInput("url")."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("url", "must be an absolute http or https address")
    return url


class MessageLinks:
    """The links of one message."""

    def __init__(self, *, key: str, public_url: str, message_id: int) -> None:
        self.key = key
        self.base = public_url.rstrip("/")
        self.message_id = message_id

    @functools.cached_property
    def unsubscribe_url(self) -> str:
        return f"{self.base}/unsubscribe/{sign(self.key, UNSUBSCRIBE, self.message_id)}"

    @property
    def open_url(self) -> str:
        return f"{self.base}/e/o/{sign(self.key, OPEN, self.message_id)}.gif"

    def click_url(self, destination: str) -> str:
        token = sign(self.key, CLICK, [self.message_id, destination])
        return f"{self.base}/e/c/{token}"

    def tracked_html(self, body: str) -> str:
        """``body`` with each http(s) link through the click redirect and the open pixel
        added before ``</body>`` (or at the end)."""
        if not body:
            return body

        unsubscribe = f"{self.base}/unsubscribe/"

        def rewrite(match: re.Match[str]) -> str:
            destination = html_module.unescape(match.group(3))
            if destination.startswith(unsubscribe):
                return match.group(0)  # a click on it is not engagement: leave it as it is
            link = html_module.escape(self.click_url(destination), quote=True)
            return f"{match.group(1)}{match.group(2)}{link}{match.group(2)}"

        tracked = _HREF.sub(rewrite, body)
        pixel = (
            f'<img src="{html_module.escape(self.open_url)}" width="1" height="1" alt="" '
            'style="display:block;border:0;width:1px;height:1px">'
        )
        found = list(_BODY_END.finditer(tracked))
        if found:
            at = found[-1].start()
            return tracked[:at] + pixel + tracked[at:]
        return tracked + pixel
