"""`microamp mail` in a real process on a real SQLite file, against a real SMTP server: a test
message queued, refused once, retried by `send-due` once due, and the log read back."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from microamp.store import open_store
from microamp.store.mail import OutboxMessage, save_mail_settings
from support.smtp import MailCatcher, kept_mail_key


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microamp", "mail", *args, "--database", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_send_due_without_settings_says_so_and_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    open_store(url, upgrade=True).close()
    done = cli(url, "send-due")
    assert done.returncode == 1 and "no SMTP settings" in done.stderr


def test_a_bad_address_exits_2_naming_the_option(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    open_store(url, upgrade=True).close()
    done = cli(url, "test", "--to", "ana")
    assert done.returncode == 2 and "--to" in done.stderr and "Traceback" not in done.stderr


def test_send_due_retries_a_refused_message_once_it_is_due(
    tmp_path: Path, smtp_server: MailCatcher
) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    with open_store(url, upgrade=True) as store, store.session() as session:
        save_mail_settings(session, host="127.0.0.1", port=smtp_server.port, tls_mode="none",
                           username="", password=None, from_address="desk@clinic.example",
                           by="os:test", key=kept_mail_key(store))  # fmt: skip
        session.commit()
    queued = cli(url, "test", "--to", "ana@example.org", "--json")
    assert queued.returncode == 0, queued.stderr
    message_id = json.loads(queued.stdout)["id"]

    smtp_server.refuse_next(1)
    first = cli(url, "send-due", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["retrying"] == [message_id]
    assert json.loads(cli(url, "send-due", "--json").stdout)["sent"] == []  # not yet due

    with open_store(url) as store, store.session() as session:  # as if the backoff had passed
        for message in session.scalars(select(OutboxMessage)):
            message.next_attempt_at -= timedelta(hours=1)
        session.commit()
    second = cli(url, "send-due", "--json")
    assert json.loads(second.stdout)["sent"] == [message_id]
    assert [m["Subject"] for m in smtp_server.received] == ["microamp: test message"]

    log = json.loads(cli(url, "log", "--json").stdout)
    assert [row["ok"] for row in log] == [True, False]
    assert "451" in log[1]["detail"] and log[0]["status"] == "sent"


def test_send_due_queues_and_sends_the_reminders_due_once(
    tmp_path: Path, smtp_server: MailCatcher
) -> None:
    from datetime import date, datetime

    from microamp.store.book import book_appointment
    from microamp.store.book_setup import save_settings
    from microamp.store.models import Client
    from support.clinic_book import seed_clinic

    url = f"sqlite:///{tmp_path / 'mail.db'}"
    day = date.today() + timedelta(days=2)
    while day.weekday() >= 5 or date(day.year, 12, 24) <= day or day <= date(day.year, 1, 1):
        day += timedelta(days=1)
    with open_store(url, upgrade=True) as store:
        key = kept_mail_key(store)
    with open_store(url) as store, store.transaction() as session:
        clinic = seed_clinic(session)
        save_settings(session, reminder_lead_hours=336)
        client = session.get(Client, clinic.clients[0])
        assert client is not None
        client.email = "bea@example.org"
        book_appointment(session, client_id=client.id, service_id=clinic.facial,
                         room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                         start=datetime(day.year, day.month, day.day, 10, 0))  # fmt: skip
        save_mail_settings(session, host="127.0.0.1", port=smtp_server.port, tls_mode="none",
                           username="", password=None, from_address="desk@clinic.example",
                           by="os:test", key=key)  # fmt: skip
    for _ in range(2):
        done = cli(url, "send-due", "--json")
        assert done.returncode == 0, done.stderr
    (mail,) = smtp_server.received
    assert mail["To"] == "bea@example.org" and mail["Subject"].startswith("Reminder:")
    assert "http://127.0.0.1:8000/visit/" in mail.get_body(("plain",)).get_content()


def test_the_log_gives_its_times_in_the_clinics_zone_and_names_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from microamp.store.book_setup import save_settings
    from microamp.store.mail import MailAttempt, queue_mail

    url = f"sqlite:///{tmp_path / 'mail.db'}"
    with open_store(url, upgrade=True) as store, store.transaction() as session:
        save_settings(session, time_zone="Pacific/Kiritimati")  # UTC+14
        message = queue_mail(session, to="ana@example.org", subject="Zoned", text="Hi.",
                             kind="test")  # fmt: skip
        session.add(MailAttempt(message_id=message.id, ok=True, server="127.0.0.1:25 (none)",
                                at=datetime(2026, 12, 2, 11, 30, 15, tzinfo=UTC)))  # fmt: skip
    (row,) = json.loads(cli(url, "log", "--json").stdout)
    assert row["at"] == "2026-12-03T01:30:15+14:00" and row["time_zone"] == "Pacific/Kiritimati"
    shown = cli(url, "log")
    assert shown.returncode == 0 and "2026-12-03T01:30:15+14:00 Pacific/Kiritimati" in shown.stdout


def test_send_due_with_a_password_sealed_under_another_key_says_to_enter_it_again(
    tmp_path: Path, smtp_server: MailCatcher
) -> None:
    from microamp.store.mail_secret import mail_password_key

    url = f"sqlite:///{tmp_path / 'mail.db'}"
    with open_store(url, upgrade=True) as store, store.transaction() as session:
        save_mail_settings(session, host="127.0.0.1", port=smtp_server.port, tls_mode="none",
                           username="desk", password="s3cret", from_address="desk@clinic.example",
                           by="os:test", key=mail_password_key("a key this clinic no longer has"))  # fmt: skip
    done = cli(url, "send-due")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "re-enter the SMTP password" in " ".join(done.stderr.split())
    assert json.loads(cli(url, "send-due", "--json").stdout)["problem"]
    assert smtp_server.received == []
