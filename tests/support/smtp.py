"""A real SMTP server for the tests (aiosmtpd on a free local port), which keeps what it gets.

`MailCatcher.refuse_next` makes it answer the next messages with a temporary 451 refusal, so a
test can see the sender fail and then retry; `stop` takes it off the network altogether.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

__all__ = ["MailCatcher", "free_port", "self_signed", "smtp_server"]


def free_port() -> int:
    """A local port nothing listens on (at the moment it is asked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made by openssl: the server's context, and a client's that
    trusts that certificate alone."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


@dataclass
class MailCatcher:
    """What the server received, and how it should answer the next messages."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refusals_left: int = 0
    # STARTTLS offered with this context (``starttls``), or TLS from the first byte (``tls``)
    tls: ssl.SSLContext | None = None
    tls_mode: str = "none"
    # with credentials, the server asks to sign in (AUTH PLAIN or LOGIN) and refuses others
    credentials: tuple[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            if self.refusals_left > 0:
                self.refusals_left -= 1
                return "451 4.3.0 try again later"
            raw = envelope.original_content or envelope.content
            message = message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
            self.received.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self.refusals_left = count

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.credentials)

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.tls_mode == "starttls":
            options |= {"tls_context": self.tls, "require_starttls": True}
        elif self.tls_mode == "tls":
            options |= {"ssl_context": self.tls}
        if self.credentials is not None:
            options |= {"authenticator": self._authenticate, "auth_required": True}
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="127.0.0.1", **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[MailCatcher]:
    """A running SMTP server on 127.0.0.1, stopped afterwards."""
    catcher = MailCatcher(port=free_port())
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


def clinic_mail_key() -> bytes:
    """The SMTP password's sealing key of a clinic whose secret key is the tests' ("k" * 40,
    as `web.conftest.clinic_on` sets it)."""
    from microamp.store.mail_secret import mail_password_key

    return mail_password_key("k" * 40)


def kept_mail_key(store: object) -> bytes:
    """The sealing key a process without MICROAMP_SECRET_KEY uses on ``store``: derived from
    the secret key the database keeps (made now if it keeps none), as `microamp mail` does."""
    from microamp.store.db import Store
    from microamp.store.mail_secret import mail_password_key
    from microamp.web.settings import WebSettings, shared_secret_key

    assert isinstance(store, Store)
    return mail_password_key(shared_secret_key(WebSettings(database_url=store.url), store))
