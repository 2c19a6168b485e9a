"""TLS and authentication against aiosmtpd on loopback: STARTTLS and implicit TLS, each
with AUTH, a certificate signed for 127.0.0.1 that the client verifies (smtp_ca_file),
and a wrong password refused (the job retries; nothing is delivered)."""

from __future__ import annotations

import gc
import shutil
import ssl
import subprocess
import warnings
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.messaging.conftest import Runner, mail_settings
from tests.messaging.smtp_server import Collector, free_port
from tests.messaging.test_sending import _message, _person, _queue


def _certificate(directory: Path) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    def text(value):  # type: ignore[no-untyped-def]
        return value.decode() if isinstance(value, bytes) else value

    ok = isinstance(auth_data, LoginPassword) and (
        text(auth_data.login),
        text(auth_data.password),
    ) == ("tenure", "s3cret-pass")
    # handled=False: aiosmtpd answers the client (235, or 535 on failure) itself
    return AuthResult(success=ok, handled=False)


# aiosmtpd warns when AUTH is offered without its own STARTTLS (implicit TLS here).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_and_auth(mode, mail_engine, fresh_database_url, tmp_path):
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    collector, port = Collector(), free_port()
    tls_options = (
        {"tls_context": context, "require_starttls": True}
        if mode == "starttls"
        # aiosmtpd does not see its own implicit TLS as TLS: let it offer AUTH anyway
        else {"ssl_context": context, "auth_require_tls": False}
    )
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_required=True,
        **tls_options,
    )
    controller.start()
    try:
        base = {"smtp_tls": mode, "smtp_ca_file": str(cert), "smtp_user": "tenure"}
        wrong = mail_settings(fresh_database_url, port, **base, smtp_password="guess")
        refused = _queue(mail_engine, wrong, _person(mail_engine, "ada@example.org"))
        Runner(mail_engine, wrong).run()
        row = _message(mail_engine, refused)
        assert row.status == "queued"
        assert row.reason.startswith("could not connect or log in to the SMTP server: (535")
        assert row.reason.endswith("(attempt 1, will retry)")  # the settings', not the message's

        right = mail_settings(fresh_database_url, port, **base, smtp_password="s3cret-pass")
        sent = _queue(mail_engine, right, _person(mail_engine, "bob@example.org"))
        Runner(mail_engine, right).run()
        assert _message(mail_engine, sent).status == "sent"
        assert [r.rcpt_tos for r in collector.received] == [["bob@example.org"]]
    finally:
        controller.stop()
        # aiosmtpd 1.4 with a TLS context leaves its listening socket to the garbage
        # collector: collect it here, quietly, rather than fail whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
