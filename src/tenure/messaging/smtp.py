"""Handing a message to the SMTP server, with TLS and authentication.

Through the standard library's ``smtplib``, not aiosmtplib: job handlers run in the
worker's threads, synchronously, inside their own transaction, so a blocking client is
what the runner calls; aiosmtplib would need an event loop per slot for no gain.

Each worker thread keeps its connection open between messages (a fresh connection, TLS
handshake and login per message would cost more than the message), and reconnects once
when the server closed it meanwhile.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass

from tenure.config import Settings


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: str
    ca_file: str | None
    user: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            ca_file=settings.smtp_ca_file,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): do not retry."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


class TemporaryFailure(Exception):
    """The server asked to try later (4xx), or could not be reached: retry with backoff."""


class Unreachable(TemporaryFailure):
    """No connection, or it broke: the next message would fare no better right now."""


def _connect(server: SmtpServer) -> smtplib.SMTP:
    # Certificates verified and host names checked; a private CA through smtp_ca_file.
    context = ssl.create_default_context(cafile=server.ca_file)
    client: smtplib.SMTP
    if server.tls == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    try:
        if server.tls == "starttls":
            client.starttls(context=context)
        if server.user:
            client.login(server.user, server.password or "")
    except BaseException:
        client.close()  # a refused login or handshake must not leave the socket open
        raise
    return client


#: A kept connection unused this long is closed rather than reused: servers drop idle
#: sessions (Postfix after 300 s), and a fresh one costs less than a failed command.
IDLE_SECONDS = 30.0


class _Connections(dict[SmtpServer, tuple[smtplib.SMTP, float]]):
    """One thread's open connections, closed when the thread ends (a worker slot retires)."""

    def __del__(self) -> None:
        for client, _ in self.values():
            with contextlib.suppress(Exception):
                client.close()


_local = threading.local()


def _kept() -> _Connections:
    kept = getattr(_local, "connections", None)
    if kept is None:
        kept = _local.connections = _Connections()
    return kept


def _connection(server: SmtpServer) -> smtplib.SMTP:
    kept = _kept()
    now = time.monotonic()
    entry = kept.get(server)
    if entry is not None and now - entry[1] > IDLE_SECONDS:
        _forget(server)
        entry = None
    client = entry[0] if entry is not None else _connect(server)
    kept[server] = (client, now)
    return client


def _forget(server: SmtpServer) -> None:
    entry = _kept().pop(server, None)
    if entry is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            entry[0].close()


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _classify(code: int, reply: bytes | str) -> Exception:
    text = _reply_text(reply)
    if 500 <= code < 600:
        return PermanentFailure(code, text)
    return TemporaryFailure(f"{code} {text}")


def _transaction(client: smtplib.SMTP, data: bytes, sender: str, recipient: str) -> str:
    """MAIL, RCPT, DATA by hand rather than ``send_message``, to keep the server's reply
    to DATA (its queue id: what to quote when asking the relay about a message)."""
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(sender)
    if code != 250:
        raise _classify(code, reply)
    code, reply = client.rcpt(recipient)
    if code not in (250, 251):
        raise _classify(code, reply)
    code, reply = client.data(data)
    if code != 250:
        raise _classify(code, reply)
    return f"{code} {_reply_text(reply)}"


def send(server: SmtpServer, data: bytes, *, sender: str, recipient: str) -> str:
    """Hand the message ``data`` (CRLF line ends) to the server; return its reply to
    DATA ("250 ... queued as X"). Raises PermanentFailure (5xx) or TemporaryFailure (4xx,
    connection problems; Unreachable for the connection)."""
    for attempt in (1, 2):
        try:
            client = _connection(server)
        except (OSError, smtplib.SMTPException) as error:
            # The server, TLS or the login: the relay's or the settings' problem, never
            # the message's, so it is retried (a wrong password shows on the outbox).
            _forget(server)
            raise Unreachable(f"could not connect or log in to the SMTP server: {error}")
        try:
            return _transaction(client, data, sender, recipient)
        except smtplib.SMTPServerDisconnected as error:
            _forget(server)
            if attempt == 1:
                continue  # the kept connection had gone stale: one fresh try
            raise Unreachable(f"the SMTP server closed the connection: {error}")
        except (PermanentFailure, TemporaryFailure):
            _reset(server)
            raise
        except smtplib.SMTPResponseException as error:
            _forget(server)
            raise _classify(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:
            _forget(server)
            raise Unreachable(f"could not reach the SMTP server: {error}")
    raise Unreachable("the SMTP server closed the connection")


def _reset(server: SmtpServer) -> None:
    """After a refusal the session is still open: RSET it for the next message."""
    entry = _kept().get(server)
    if entry is None:
        return
    try:
        entry[0].rset()
    except (OSError, smtplib.SMTPException):
        _forget(server)


def close_connections() -> None:
    """Close this thread's connections (a benchmark between runs, a worker at exit)."""
    for server in list(_kept()):
        _forget(server)
