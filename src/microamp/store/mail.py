"""The clinic's mail: its SMTP settings, the outbox and the log of every attempt to send.

Mail is never sent from a request: a page or a scheduler queues an `OutboxMessage` (the whole
RFC 5322 message but its From, Date and Message-ID, which are set when it is sent) and a sender
(`microamp.store.outbox`) delivers what is due, from the embedded server's background thread or
from ``microamp mail send-due`` on a cluster. A message queued under a ``key`` is queued once,
whoever queues it again (a reminder scheduler that runs twice sends one reminder).

The SMTP password is kept in the database so that every worker can send, sealed under a key
derived from the clinic's secret key (`microamp.store.mail_secret`); it is never shown back to
anyone, and an empty password field on the settings form keeps the one stored.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from microamp.errors import InvalidValue
from microamp.store.base import Base, UTCDateTime, utc_now
from microamp.store.mail_secret import is_sealed, open_password, seal_password

__all__ = [
    "MESSAGE_STATES",
    "TLS_MODES",
    "Attachment",
    "MailAttempt",
    "MailSettings",
    "OutboxMessage",
    "check_address",
    "mail_log",
    "mail_settings",
    "outbox_counts",
    "queue_mail",
    "recent_outbox",
    "save_mail_settings",
    "seal_plain_password",
    "smtp_password",
]

TLS_MODES = ("none", "starttls", "tls")
MESSAGE_STATES = ("queued", "sent", "failed")
_SETTINGS_ID = 1
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$|^[^@\s<>,;\"]+@localhost$")


class MailSettings(Base):
    """How the clinic sends mail: one row. ``password`` holds the password sealed (see
    `smtp_password`), or "" for none; it is written, never read back to a page."""

    __tablename__ = "mail_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    tls_mode: Mapped[str] = mapped_column(String(10))
    username: Mapped[str] = mapped_column(String(254), default="")
    password: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(254), default="")


class OutboxMessage(Base):
    """One message to send: queued until sent, or failed once its retries ran out."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # what queued it ("test", "previsit", "reminder"), and a key that makes it queued once
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # when the sender may next try it; while a sender holds it, a little ahead (its claim)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailAttempt(Base):
    """One try at handing a message to the SMTP server, and what came of it: the mail log."""

    __tablename__ = "mail_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ok: Mapped[bool] = mapped_column(Boolean)
    server: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: ``media_type`` as ``text/calendar`` or ``application/pdf``."""

    filename: str
    media_type: str
    data: bytes


def check_address(field: str, value: str) -> str:
    """``value`` as one plain email address; `InvalidValue` naming ``field`` otherwise."""
    address = value.strip()
    if len(address) > 254 or not _ADDRESS.match(address) or parseaddr(address)[1] != address:
        raise InvalidValue(field, value, "must be one email address, as name@example.org")
    return address


def mail_settings(session: Session) -> MailSettings | None:
    """The clinic's SMTP settings, or None while nobody has set them."""
    return session.get(MailSettings, _SETTINGS_ID)


def save_mail_settings(
    session: Session,
    *,
    host: str,
    port: int,
    tls_mode: str,
    username: str,
    password: str | None,
    from_address: str,
    by: str,
    key: bytes,
) -> MailSettings:
    """Store the SMTP settings. ``password`` None keeps the stored one, "" clears it; a new one
    is stored sealed under ``key`` (`mail_password_key` of the clinic's secret key). Raises
    `InvalidValue` naming the first field that is wrong; nothing is stored then."""
    host = host.strip()
    if not _HOST.match(host):
        raise InvalidValue("host", host, "must be a host name or address, as smtp.example.org")
    if not 1 <= port <= 65_535:
        raise InvalidValue("port", port, "must be a port number from 1 to 65535")
    if tls_mode not in TLS_MODES:
        raise InvalidValue("tls_mode", tls_mode, f"must be one of {', '.join(TLS_MODES)}")
    username = username.strip()
    if len(username) > 254:
        raise InvalidValue("username", username[:40], "must be at most 254 characters")
    if password is not None and len(password) > 1000:
        raise InvalidValue("password", "(hidden)", "must be at most 1000 characters")
    if password is not None and not password.isascii():
        # smtplib's AUTH encodes the password as ASCII: another character fails every login
        raise InvalidValue("password", "(hidden)", "must be letters, digits and signs of ASCII")
    sender = check_address("from_address", from_address)
    row = mail_settings(session)
    if row is None:
        row = MailSettings(id=_SETTINGS_ID, password="")
        session.add(row)
    row.host, row.port, row.tls_mode, row.username = host, port, tls_mode, username
    row.from_address, row.updated_by, row.updated_at = sender, by, utc_now()
    if password is not None:
        row.password = seal_password(key, password)
    session.flush()
    return row


def smtp_password(row: MailSettings, key: bytes) -> str:
    """The stored password in clear, for the SMTP login only ("" for none). Raises
    `microamp.store.mail_secret.PasswordUnreadable` when it was sealed under another key."""
    return open_password(key, row.password)


def seal_plain_password(session: Session, key: bytes) -> bool:
    """Seal a password an older microamp stored in plain text; whether there was one."""
    row = mail_settings(session)
    if row is None or not row.password or is_sealed(row.password):
        return False
    row.password = seal_password(key, row.password)
    session.flush()
    return True


def _build(to: str, subject: str, text: str, attachments: Sequence[Attachment]) -> bytes:
    message = EmailMessage(policy=SMTP_POLICY)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    for attachment in attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    for part in message.walk():
        if part.is_multipart():
            # the email package would draw the boundary from the process's shared `random`
            # (which tests and other threads seed and read); a boundary only has to be unique
            part.set_boundary(f"=={secrets.token_hex(16)}==")
    return message.as_bytes()


def queue_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    kind: str,
    attachments: Sequence[Attachment] = (),
    key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue a message for the sender, due at once. With a ``key`` already queued, the message
    queued first under it is returned and nothing new is queued. `InvalidValue` on a bad ``to``
    or a subject that is empty, too long or spans lines."""
    address = check_address("to", to)
    subject = subject.strip()
    if not subject or len(subject) > 300 or "\n" in subject or "\r" in subject:
        raise InvalidValue("subject", subject[:40], "must be one line of 1 to 300 characters")
    row = {
        "kind": kind,
        "key": key,
        "to_address": address,
        "subject": subject,
        "message": _build(address, subject, text, attachments),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now or utc_now(),
        "last_error": "",
        "created_at": now or utc_now(),
    }
    if key is None:
        message = OutboxMessage(**row)
        session.add(message)
        session.flush()
        return message
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(OutboxMessage).values(row).on_conflict_do_nothing(index_elements=["key"])
    )
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()
    return queued


def outbox_counts(session: Session) -> dict[str, int]:
    """How many messages are in each state, every state named (0 when none)."""
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    for status, count in rows:
        counts[status] = count
    return counts


def recent_outbox(session: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(query))


def mail_log(
    session: Session, *, message_id: int | None = None, limit: int = 100
) -> list[tuple[MailAttempt, OutboxMessage]]:
    """The newest attempts first, each with its message."""
    query = (
        select(MailAttempt, OutboxMessage)
        .join(OutboxMessage, MailAttempt.message_id == OutboxMessage.id)
        .order_by(MailAttempt.id.desc())
        .limit(limit)
    )
    if message_id is not None:
        query = query.where(MailAttempt.message_id == message_id)
    return [(attempt, message) for attempt, message in session.execute(query).all()]
