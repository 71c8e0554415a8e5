"""Mail: how fast the outbox's sender hands queued messages to an SMTP server.

A local SMTP server (aiosmtpd, accepting everything) and a SQLite store: N messages queued,
then one `send_due` pass, timed; each message is claimed, handed over on its own connection,
and its attempt logged, as in the clinic. A reminder run of a busy day (a few hundred messages)
is the size that matters.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path
from typing import Any

QUICK_MESSAGES = 20
MESSAGES = 300


class _Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(quick: bool = False) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    from bench.stores import sqlite_url
    from microamp.store import open_store
    from microamp.store.mail import queue_mail, save_mail_settings
    from microamp.store.mail_secret import mail_password_key
    from microamp.store.outbox import send_due

    key = mail_password_key("bench secret key")

    n = QUICK_MESSAGES if quick else MESSAGES
    port = _free_port()
    server = Controller(_Accepting(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with open_store(sqlite_url(Path(tmp) / "mail.db", quick), upgrade=True) as store:
                with store.session() as session:
                    save_mail_settings(session, host="127.0.0.1", port=port, tls_mode="none",
                                       username="", password=None,
                                       from_address="desk@clinic.example", by="bench",
                                       key=key)  # fmt: skip
                    started = time.perf_counter()
                    for number in range(n):
                        queue_mail(session, to=f"client{number}@example.org", kind="bench",
                                   subject="Your visit tomorrow", text="See you at 10:30.")  # fmt: skip
                    session.commit()
                    queued_s = time.perf_counter() - started
                started = time.perf_counter()
                report = send_due(store, key=key, limit=n)
                sent_s = time.perf_counter() - started
    finally:
        server.stop()
    assert len(report.sent) == n, report.as_dict()
    return {
        "mail": {
            "messages": n,
            "queued_per_s": round(n / queued_s),
            "sent_per_s": round(n / sent_s, 1),
            "ms_per_message": round(sent_s / n * 1000, 2),
        }
    }
