"""A real SMTP server for the tests (aiosmtpd on a free local port), which keeps what it gets.

`MailCatcher.refuse_next` makes it answer the next messages with a temporary 451 refusal, so a
test can see the sender fail and then retry; `stop` takes it off the network altogether.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

__all__ = ["MailCatcher", "free_port", "smtp_server"]


def free_port() -> int:
    """A local port nothing listens on (at the moment it is asked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MailCatcher:
    """What the server received, and how it should answer the next messages."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refusals_left: int = 0
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

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
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
