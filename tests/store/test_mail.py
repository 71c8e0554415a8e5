"""The outbox and its sender against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from microamp.errors import InvalidValue
from microamp.store import Store
from microamp.store.mail import (
    Attachment,
    mail_log,
    mail_settings,
    outbox_counts,
    queue_mail,
    save_mail_settings,
    smtp_password,
)
from microamp.store.outbox import MAX_ATTEMPTS, MailSender, backoff_s, send_due
from support.smtp import MailCatcher, clinic_mail_key, free_port, self_signed

# the sealing key of the SMTP password, as a clinic whose secret key is "k" * 40 derives it
KEY = clinic_mail_key()


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _configure(store: Store, port: int) -> None:
    with store.session() as session:
        save_mail_settings(session, host="127.0.0.1", port=port, tls_mode="none", username="",
                           password=None, from_address="desk@clinic.example", by="owner@x", key=KEY)  # fmt: skip
        session.commit()


def _queue(store: Store, clock: Clock, **extra: object) -> int:
    with store.session() as session:
        fields: dict[str, object] = {"to": "ana@example.org", "subject": "Your visit",
                                     "text": "See you on Friday.", "kind": "test", "now": clock()}  # fmt: skip
        fields.update(extra)
        message = queue_mail(session, **fields)  # type: ignore[arg-type]
        session.commit()
        return message.id


def test_a_queued_message_reaches_the_server_with_its_attachment(
    store: Store, smtp_server: MailCatcher
) -> None:
    clock = Clock()
    _configure(store, smtp_server.port)
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message_id = _queue(store, clock, attachments=[Attachment("visit.ics", "text/calendar", ics)])

    report = send_due(store, key=KEY, now=clock)

    assert report.sent == [message_id]
    (received,) = smtp_server.received
    assert received["To"] == "ana@example.org"
    assert received["From"] == "desk@clinic.example"
    assert received["Subject"] == "Your visit"
    assert received["Message-ID"]
    assert smtp_server.envelopes == [("desk@clinic.example", ["ana@example.org"])]
    parts = {part.get_filename(): part for part in received.iter_attachments()}
    assert parts["visit.ics"].get_content_type() == "text/calendar"
    assert parts["visit.ics"].get_content().encode() == ics
    assert received.get_body(("plain",)).get_content().strip() == "See you on Friday."
    with store.session() as session:
        assert outbox_counts(session) == {"queued": 0, "sent": 1, "failed": 0}
        ((attempt, message),) = mail_log(session)
        assert attempt.ok and message.id == message_id and message.sent_at == clock()


def test_a_refused_message_is_retried_after_its_backoff_and_then_sent(
    store: Store, smtp_server: MailCatcher
) -> None:
    clock = Clock()
    _configure(store, smtp_server.port)
    message_id = _queue(store, clock)
    smtp_server.refuse_next(1)

    first = send_due(store, key=KEY, now=clock)
    assert first.retrying == [message_id] and smtp_server.received == []
    clock.advance(backoff_s(1) - 1)
    assert send_due(store, key=KEY, now=clock).sent == []  # not due yet: nothing tried
    clock.advance(1)
    assert send_due(store, key=KEY, now=clock).sent == [message_id]

    assert len(smtp_server.received) == 1
    with store.session() as session:
        log = mail_log(session, message_id=message_id)
        assert [attempt.ok for attempt, _ in reversed(log)] == [False, True]
        assert "451" in log[-1][0].detail
        assert log[0][1].attempts == 2 and log[0][1].last_error == ""


def test_a_server_that_is_down_is_tried_again_once_it_is_up(store: Store) -> None:
    clock = Clock()
    server = MailCatcher(port=free_port())
    _configure(store, server.port)
    message_id = _queue(store, clock)

    assert send_due(store, key=KEY, now=clock, timeout_s=2).retrying == [message_id]
    server.start()
    try:
        clock.advance(backoff_s(1))
        assert send_due(store, key=KEY, now=clock).sent == [message_id]
    finally:
        server.stop()
    assert [m["Subject"] for m in server.received] == ["Your visit"]
    with store.session() as session:
        (_sent, (failed, _)) = mail_log(session)
        assert not failed.ok and "Connection" in failed.detail


def test_a_message_fails_for_good_after_its_last_attempt(
    store: Store, smtp_server: MailCatcher
) -> None:
    clock = Clock()
    _configure(store, smtp_server.port)
    message_id = _queue(store, clock)
    smtp_server.refuse_next(MAX_ATTEMPTS)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = send_due(store, key=KEY, now=clock)
        assert (report.failed if attempt == MAX_ATTEMPTS else report.retrying) == [message_id]
        clock.advance(backoff_s(attempt))

    assert send_due(store, key=KEY, now=clock).sent == []
    assert smtp_server.received == []
    with store.session() as session:
        assert outbox_counts(session)["failed"] == 1
        assert len(mail_log(session)) == MAX_ATTEMPTS


def test_backoff_doubles_from_a_minute_to_an_hour() -> None:
    assert [backoff_s(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_message_queued_twice_under_one_key_is_sent_once(
    store: Store, smtp_server: MailCatcher
) -> None:
    clock = Clock()
    _configure(store, smtp_server.port)
    first = _queue(store, clock, key="reminder:7")
    again = _queue(store, clock, key="reminder:7", subject="Another")
    assert first == again

    send_due(store, key=KEY, now=clock)
    send_due(store, key=KEY, now=clock)
    assert [m["Subject"] for m in smtp_server.received] == ["Your visit"]


def test_two_senders_at_once_hand_each_message_over_once(
    store: Store, smtp_server: MailCatcher
) -> None:
    clock = Clock()
    _configure(store, smtp_server.port)
    ids = [_queue(store, clock, subject=f"Message {n}") for n in range(6)]
    senders = [MailSender(store, key=KEY, interval_s=0.01, now=clock) for _ in range(2)]
    for sender in senders:
        sender.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while len(smtp_server.received) < len(ids) and datetime.now(UTC) < deadline:
            senders[0]._stop.wait(0.05)
    finally:
        for sender in senders:
            sender.stop()
    assert sorted(m["Subject"] for m in smtp_server.received) == [f"Message {n}" for n in range(6)]


def test_without_settings_nothing_is_sent_and_the_message_waits(store: Store) -> None:
    clock = Clock()
    _queue(store, clock)
    report = send_due(store, key=KEY, now=clock)
    assert not report.configured and report.sent == []
    with store.session() as session:
        assert outbox_counts(session)["queued"] == 1


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("host", {"host": "smtp example"}),
        ("port", {"port": 0}),
        ("port", {"port": 70_000}),
        ("tls_mode", {"tls_mode": "ssl3"}),
        ("from_address", {"from_address": "desk"}),
        ("from_address", {"from_address": "a@b.org, c@d.org"}),
    ],
)
def test_bad_settings_name_their_field_and_store_nothing(
    store: Store, field: str, changes: dict[str, object]
) -> None:
    values: dict[str, object] = {"host": "smtp.example.org", "port": 587, "tls_mode": "starttls",
                                 "username": "", "password": None,
                                 "from_address": "desk@clinic.example", "by": "owner@x"}  # fmt: skip
    values.update(changes)
    with store.session() as session:
        with pytest.raises(InvalidValue) as caught:
            save_mail_settings(session, key=KEY, **values)  # type: ignore[arg-type]
        assert caught.value.field == field
        assert mail_settings(session) is None


def test_an_empty_password_keeps_the_stored_one(store: Store) -> None:
    values: dict[str, object] = {"host": "smtp.example.org", "port": 465, "tls_mode": "tls",
                                 "username": "desk", "from_address": "desk@clinic.example",
                                 "by": "owner@x"}  # fmt: skip
    with store.session() as session:
        save_mail_settings(session, key=KEY, password="s3cret", **values)  # type: ignore[arg-type]
        save_mail_settings(session, key=KEY, password=None, **values)  # type: ignore[arg-type]
        row = mail_settings(session)
        assert row is not None and smtp_password(row, KEY) == "s3cret"
        save_mail_settings(session, key=KEY, password="", **values)  # type: ignore[arg-type]
        assert row.password == ""


@pytest.mark.parametrize("to", ["ana", "ana@example.org\r\nBcc: x@y.org", "a@b.org, c@d.org"])
def test_a_bad_recipient_is_refused_before_it_is_queued(store: Store, to: str) -> None:
    with store.session() as session:
        with pytest.raises(InvalidValue) as caught:
            queue_mail(session, to=to, subject="Hi", text="x", kind="test")
        assert caught.value.field == "to"
        assert outbox_counts(session)["queued"] == 0


def test_mail_goes_over_starttls_and_signs_in_with_the_stored_password(
    store: Store, tmp_path: Path
) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    server = MailCatcher(port=free_port(), tls=server_tls, tls_mode="starttls",
                         credentials=("desk", "s3cret pass"))  # fmt: skip
    server.start()
    clock = Clock()
    settings = {"host": "127.0.0.1", "port": server.port, "tls_mode": "starttls",
                "username": "desk", "from_address": "desk@clinic.example", "by": "owner@x"}  # fmt: skip
    try:
        with store.session() as session:
            save_mail_settings(session, key=KEY, password="wrong", **settings)  # type: ignore[arg-type]
            session.commit()
        first = _queue(store, clock)
        refused = send_due(store, key=KEY, now=clock, context=client_tls, timeout_s=3)
        assert refused.sent == [] and first in refused.failed + refused.retrying

        with store.session() as session:
            save_mail_settings(session, key=KEY, password="s3cret pass", **settings)  # type: ignore[arg-type]
            session.commit()
        second = _queue(store, clock, subject="Second")
        assert send_due(store, key=KEY, now=clock, context=client_tls).sent == [second]
    finally:
        server.stop()
    assert [m["Subject"] for m in server.received] == ["Second"]


def test_mail_goes_over_tls_from_the_first_byte(store: Store, tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    server = MailCatcher(port=free_port(), tls=server_tls, tls_mode="tls")
    server.start()
    clock = Clock()
    try:
        with store.session() as session:
            save_mail_settings(session, host="127.0.0.1", port=server.port, tls_mode="tls",
                               username="", password=None, from_address="desk@clinic.example",
                               by="owner@x", key=KEY)  # fmt: skip
            session.commit()
        message_id = _queue(store, clock)
        assert send_due(store, key=KEY, now=clock, context=client_tls).sent == [message_id]
    finally:
        server.stop()
    assert [m["Subject"] for m in server.received] == ["Your visit"]


def test_a_server_whose_certificate_is_not_trusted_is_not_sent_to(
    store: Store, tmp_path: Path
) -> None:
    server_tls, _client_tls = self_signed(tmp_path)
    server = MailCatcher(port=free_port(), tls=server_tls, tls_mode="starttls")
    server.start()
    clock = Clock()
    try:
        with store.session() as session:
            save_mail_settings(session, host="127.0.0.1", port=server.port, tls_mode="starttls",
                               username="", password=None, from_address="desk@clinic.example",
                               by="owner@x", key=KEY)  # fmt: skip
            session.commit()
        message_id = _queue(store, clock)
        report = send_due(
            store, key=KEY, now=clock
        )  # the system's trust store: a self-signed cert fails
        assert report.retrying == [message_id]
    finally:
        server.stop()
    assert server.received == []
    with store.session() as session:
        ((attempt, _),) = mail_log(session)
        assert "CERTIFICATE_VERIFY_FAILED" in attempt.detail
