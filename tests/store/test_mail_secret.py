"""The SMTP password at rest: sealed under a key derived from the clinic's secret key, opened
only to sign in to a real SMTP server (aiosmtpd asking for a login over STARTTLS); a password
sealed under another secret key sends nothing and says to enter it again; a plain value an
older microamp stored is sealed in place."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from microamp.store.db import Store
from microamp.store.mail import (
    MailAttempt,
    MailSettings,
    mail_settings,
    queue_mail,
    save_mail_settings,
    seal_plain_password,
    smtp_password,
)
from microamp.store.mail_secret import (
    SEALED_PREFIX,
    PasswordUnreadable,
    mail_password_key,
    open_password,
    seal_password,
)
from microamp.store.outbox import send_due
from support.smtp import MailCatcher, free_port, self_signed

PASSWORD = "s3cret pass, with signs: %&!"
KEY = mail_password_key("the clinic's secret key, forty characters")
OTHER_KEY = mail_password_key("another secret key, after a change of key")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def login_server(tmp_path: Path) -> Iterator[tuple[MailCatcher, ssl.SSLContext]]:
    server_tls, client_tls = self_signed(tmp_path)
    server = MailCatcher(port=free_port(), tls=server_tls, tls_mode="starttls",
                         credentials=("desk", PASSWORD))  # fmt: skip
    server.start()
    try:
        yield server, client_tls
    finally:
        server.stop()


def _save(store: Store, port: int, password: str | None, key: bytes = KEY) -> None:
    with store.transaction() as session:
        save_mail_settings(session, host="127.0.0.1", port=port, tls_mode="starttls",
                           username="desk", password=password, from_address="desk@clinic.example",
                           by="owner@x", key=key)  # fmt: skip


def _queue(store: Store, subject: str) -> int:
    with store.transaction() as session:
        message = queue_mail(session, to="ana@example.org", subject=subject, text="Hello.",
                             kind="test", now=NOW)  # fmt: skip
        return message.id


def _column(store: Store) -> str:
    """What the database itself holds in the password column, read past the model."""
    with store.session() as session:
        return str(session.execute(text("SELECT password FROM mail_settings")).scalar_one())


def test_the_password_is_stored_sealed_and_signs_in_to_the_server(
    store: Store, login_server: tuple[MailCatcher, ssl.SSLContext]
) -> None:
    server, client_tls = login_server
    _save(store, server.port, PASSWORD)
    stored = _column(store)
    assert stored.startswith(SEALED_PREFIX) and PASSWORD not in stored
    message_id = _queue(store, "Sealed")
    assert send_due(store, key=KEY, now=lambda: NOW, context=client_tls).sent == [message_id]
    assert [m["Subject"] for m in server.received] == ["Sealed"]


def test_each_sealing_differs_and_opens_only_under_its_own_key() -> None:
    first, second = seal_password(KEY, PASSWORD), seal_password(KEY, PASSWORD)
    assert first != second  # a fresh IV each time: equal passwords do not look equal
    assert open_password(KEY, first) == open_password(KEY, second) == PASSWORD
    with pytest.raises(PasswordUnreadable, match="re-enter the SMTP password"):
        open_password(OTHER_KEY, first)
    assert seal_password(KEY, "") == "" and open_password(KEY, "") == ""
    assert open_password(KEY, seal_password(KEY, "ünïcode")) == "ünïcode"


def test_a_password_the_smtp_login_cannot_carry_is_refused_naming_the_field(store: Store) -> None:
    from microamp.errors import InvalidValue

    with store.session() as session, pytest.raises(InvalidValue) as caught:
        _save_in(session, "pässword")
    assert caught.value.field == "password" and "pässword" not in str(caught.value)


def _save_in(session: object, password: str) -> None:
    save_mail_settings(session, host="127.0.0.1", port=25, tls_mode="none",  # type: ignore[arg-type]
                       username="desk", password=password, from_address="desk@clinic.example",
                       by="owner@x", key=KEY)  # fmt: skip


def test_after_a_change_of_secret_key_nothing_is_sent_until_the_password_is_entered_again(
    store: Store, login_server: tuple[MailCatcher, ssl.SSLContext]
) -> None:
    server, client_tls = login_server
    _save(store, server.port, PASSWORD)
    message_id = _queue(store, "After the change")

    stuck = send_due(store, key=OTHER_KEY, now=lambda: NOW, context=client_tls)
    assert stuck.sent == stuck.retrying == stuck.failed == []
    assert "re-enter the SMTP password" in stuck.problem
    with store.session() as session:
        assert session.scalars(select(MailAttempt)).all() == []  # no attempt spent on it
        row = mail_settings(session)
        assert row is not None
        with pytest.raises(PasswordUnreadable):
            smtp_password(row, OTHER_KEY)

    _save(store, server.port, PASSWORD, key=OTHER_KEY)  # the owner types it again
    assert send_due(store, key=OTHER_KEY, now=lambda: NOW, context=client_tls).sent == [message_id]
    assert [m["Subject"] for m in server.received] == ["After the change"]


def test_a_plain_password_from_an_older_version_is_sealed_in_place_and_still_works(
    store: Store, login_server: tuple[MailCatcher, ssl.SSLContext]
) -> None:
    server, client_tls = login_server
    with store.transaction() as session:
        session.add(MailSettings(id=1, host="127.0.0.1", port=server.port, tls_mode="starttls",
                                 username="desk", password=PASSWORD,
                                 from_address="desk@clinic.example"))  # fmt: skip
    with store.transaction() as session:
        assert seal_plain_password(session, KEY) is True
        assert seal_plain_password(session, KEY) is False  # sealed once, not twice
    stored = _column(store)
    assert stored.startswith(SEALED_PREFIX) and PASSWORD not in stored
    message_id = _queue(store, "Migrated")
    assert send_due(store, key=KEY, now=lambda: NOW, context=client_tls).sent == [message_id]
