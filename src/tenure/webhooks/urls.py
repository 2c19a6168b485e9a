"""Which URLs a webhook may call: http(s) only, and (by default) no private addresses.

A webhook makes the server send requests to a URL an admin typed: server-side request
forgery (SSRF). Pointed at ``http://127.0.0.1:5432`` or a cloud metadata service
(``169.254.169.254``), it would make Tenure probe its own network and keep the answers
in the delivery log. So, unless ``TENURE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is true (a
receiver on the same machine or network; the test suite), a URL is refused when

* it is saved and its host is an IP address that is not public, or ``localhost``;
* it is delivered to and its host *resolves* to an address that is not public (a public
  name can point inside: checked at every attempt, since DNS answers change).

What remains: the check and httpx resolve the name separately, so a DNS server that
answers a public address to the first and a private one to the second (DNS rebinding)
gets through. A deployment that must rule that out sends webhooks through an egress
proxy that refuses private addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tenure.errors import InvalidInput

MAX_URL_CHARS = 2000
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class UnsafeAddress(Exception):
    """The URL's host is, or resolves to, an address that is not public."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` stripped, or InvalidInput on the field ``url`` saying what is wrong."""
    url = url.strip()
    if not url:
        raise InvalidInput("url", "is required")
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput("url", f"is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as error:
        raise InvalidInput("url", f"is not a valid URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url", "must be an http:// or https:// URL")
    if not host:
        raise InvalidInput("url", "has no host name")
    if not allow_private:
        if host.lower() in _LOCAL_NAMES:
            raise InvalidInput("url", "points to this machine (localhost)")
        try:
            public = _is_public(host)
        except ValueError:
            public = True  # a name: checked against what it resolves to at delivery
        if not public:
            raise InvalidInput(
                "url",
                f"points to a private or reserved address ({host}); set "
                "TENURE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true to allow it",
            )
    return url


def check_resolved(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeAddress when ``url``'s host resolves to an address that is not public.

    A name that does not resolve is left to the HTTP client, whose error is a retry.
    """
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.lower() in _LOCAL_NAMES:
        raise UnsafeAddress(f"{host} is this machine")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return
    for *_, sockaddr in answers:
        address = str(sockaddr[0])
        if not _is_public(address):
            raise UnsafeAddress(f"{host} resolves to {address}, a private or reserved address")
