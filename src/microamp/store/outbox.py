"""The sender: hands the outbox's due messages to the clinic's SMTP server, with retries.

Each due message is claimed first by a compare-and-set on its ``next_attempt_at`` (moved a
little ahead), so two senders (the embedded server and ``microamp mail send-due`` on another
host) never hand the same message over twice; a sender that dies mid-send leaves a claim that
lapses, and the message is tried again. Every attempt leaves a `MailAttempt` row and a log line.

A refusal the server says is temporary (4xx), or a server that cannot be reached, is tried
again after a backoff that doubles from one minute up to an hour, at most `MAX_ATTEMPTS` times;
a permanent refusal (5xx) fails the message at once. A stored password that cannot be opened
(sealed under another secret key) sends nothing: the messages wait, and the report says why.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microamp.store.base import utc_now
from microamp.store.db import Store
from microamp.store.mail import (
    MailAttempt,
    MailSettings,
    OutboxMessage,
    mail_settings,
    smtp_password,
)
from microamp.store.mail_secret import PasswordUnreadable

__all__ = ["MAX_ATTEMPTS", "MailSender", "SendReport", "backoff_s", "send_due"]

_log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
_FIRST_RETRY_S = 60.0
_LAST_RETRY_S = 3600.0
_CLAIM_S = 120.0


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed try: 60, 120, 240, ... at most 3600."""
    return float(min(_FIRST_RETRY_S * 2 ** max(attempts - 1, 0), _LAST_RETRY_S))


@dataclass
class SendReport:
    """What one pass of the sender did; ``configured`` False when there are no SMTP settings,
    ``problem`` what kept it from sending at all (a password it cannot open)."""

    configured: bool = True
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    problem: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"configured": self.configured, "sent": self.sent, "retrying": self.retrying,
                "failed": self.failed, "problem": self.problem}  # fmt: skip


@dataclass(frozen=True)
class _Server:
    host: str
    port: int
    tls_mode: str
    username: str
    password: str
    from_address: str

    @classmethod
    def of(cls, row: MailSettings, key: bytes) -> _Server:
        """Raises `PasswordUnreadable`."""
        password = smtp_password(row, key)
        return cls(row.host, row.port, row.tls_mode, row.username, password, row.from_address)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port} ({self.tls_mode})"


class _Temporary(Exception):
    """The server could not take the message now: try again later."""


class _Permanent(Exception):
    """The server refused the message for good."""


def _claim(session: Session, message_id: int, due_at: datetime, now: datetime) -> bool:
    """Whether this sender now holds the message (nobody else claimed or sent it meanwhile)."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "queued",
            OutboxMessage.next_attempt_at == due_at,
        )  # fmt: skip
        .values(next_attempt_at=now + timedelta(seconds=_CLAIM_S))
    )
    session.commit()
    return getattr(claimed, "rowcount", 0) == 1


def _finished(raw: bytes, server: _Server, now: datetime) -> EmailMessage:
    message = message_from_bytes(raw, _class=EmailMessage, policy=SMTP_POLICY)
    message["From"] = server.from_address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = _message_id(server.from_address.rpartition("@")[2])
    return message


def _message_id(domain: str) -> str:
    """A unique Message-ID. Not `email.utils.make_msgid`: it draws from the process's shared
    `random`, which tests and other threads seed and read."""
    return f"<{secrets.token_hex(16)}@{domain or 'localhost'}>"


def _hand_over(
    server: _Server, message: EmailMessage, *, timeout_s: float, context: ssl.SSLContext | None
) -> str:
    """Send ``message``; the server's last word. Raises `_Temporary` or `_Permanent`.
    ``context`` is used for ``starttls`` and ``tls`` (None only with ``none``)."""
    try:
        smtp: smtplib.SMTP
        if server.tls_mode == "tls":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout_s,
                                    context=context or ssl.create_default_context())  # fmt: skip
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout_s)
        with smtp:
            if server.tls_mode == "starttls":
                smtp.starttls(context=context or ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password)
            refused = smtp.send_message(message)
            if refused:
                raise _Permanent(f"recipients refused: {refused}")
            return "accepted"
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = _Temporary if all(400 <= code < 500 for code in codes) else _Permanent
        raise error(f"recipients refused: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)  # fmt: skip
        error = _Temporary if 400 <= exc.smtp_code < 500 else _Permanent
        raise error(f"{exc.smtp_code} {reply}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise _Temporary(f"{type(exc).__name__}: {exc}") from exc


def _record(session: Session, message_id: int, server: _Server, now: datetime,
            error: Exception | None, report: SendReport) -> None:  # fmt: skip
    row = session.get(OutboxMessage, message_id)
    if row is None:
        return
    row.attempts += 1
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, ""
        report.sent.append(message_id)
        detail = "accepted"
    elif isinstance(error, _Permanent) or row.attempts >= MAX_ATTEMPTS:
        row.status, row.last_error = "failed", str(error)
        report.failed.append(message_id)
        detail = str(error)
    else:
        row.last_error = str(error)
        row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts))
        report.retrying.append(message_id)
        detail = str(error)
    session.add(MailAttempt(message_id=message_id, at=now, ok=error is None,
                            server=server.name, detail=detail))  # fmt: skip
    session.commit()
    _log.info("mail %s to %s via %s, attempt %d: %s", message_id, row.to_address, server.name,
              row.attempts, "sent" if error is None else f"{row.status}: {detail}")  # fmt: skip


def send_due(
    store: Store,
    *,
    key: bytes,
    now: Callable[[], datetime] = utc_now,
    limit: int = 100,
    timeout_s: float = 20.0,
    context: ssl.SSLContext | None = None,
) -> SendReport:
    """Send up to ``limit`` due messages, oldest due first, and say what became of them.
    ``key`` opens the stored password (`mail_password_key` of the clinic's secret key);
    ``context`` is the TLS context for ``starttls`` and ``tls`` (the system's by default)."""
    report = SendReport()
    with store.session() as session:
        settings = mail_settings(session)
        if settings is None:
            report.configured = False
            return report
        try:
            server = _Server.of(settings, key)
        except PasswordUnreadable as exc:
            # no attempt is spent on a login bound to fail: the messages wait for the password
            _log.warning("mail not sent: %s", exc)
            report.problem = str(exc)
            return report
        # the system's trust store, loaded once a pass (it costs tens of milliseconds)
        tls = context or (ssl.create_default_context() if server.tls_mode != "none" else None)
        due = session.execute(
            select(OutboxMessage.id, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        ).all()
        for message_id, due_at in due:
            if not _claim(session, message_id, due_at, now()):
                continue
            raw = session.scalar(
                select(OutboxMessage.message).where(OutboxMessage.id == message_id)
            )
            session.commit()  # nothing held open on the database while the server talks
            error: Exception | None = None
            try:
                message = _finished(raw or b"", server, now())
                _hand_over(server, message, timeout_s=timeout_s, context=tls)
            except (_Temporary, _Permanent) as exc:
                error = exc
            _record(session, message_id, server, now(), error, report)
    return report


class MailSender:
    """Runs `send_due` every ``interval_s`` in a background thread (the embedded server's)."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        interval_s: float,
        now: Callable[[], datetime] = utc_now,
        before_pass: Callable[[Session, datetime], object] | None = None,
    ) -> None:
        self._store = store
        self._key = key
        # queues what is due before each pass (the reminders), in its own transaction
        self._before_pass = before_pass
        self._interval_s = interval_s
        self._now = now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the pass under way, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.send_once()

    def send_once(self) -> SendReport | None:
        try:
            if self._before_pass is not None:
                with self._store.transaction() as session:
                    self._before_pass(session, self._now())
            return send_due(self._store, key=self._key, now=self._now)
        except Exception:  # logged: mail that cannot go out must not take the app down
            _log.exception("mail not sent")
            return None
