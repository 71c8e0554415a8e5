"""A reminder sent by the running server to a real SMTP server, with a valid ICS file; its
link opened without an account confirms the visit, then cancels it "by the client"."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.book import book_appointment
from microamp.store.book_setup import save_settings
from microamp.store.mail import save_mail_settings
from microamp.store.models import Appointment, Client
from support.clinic_book import seed_clinic
from support.smtp import MailCatcher, clinic_mail_key, free_port
from web.conftest import Clinic, clinic_on, csrf_of

PUBLIC = "https://clinic.example"


@pytest.fixture(scope="module")
def catcher() -> Iterator[MailCatcher]:
    server = MailCatcher(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("reminders")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir, mail_send_s=0.2,
                   public_url=PUBLIC) as clinic:  # fmt: skip
        yield clinic


def _next_open_day() -> date:
    day = date.today() + timedelta(days=2)
    while day.weekday() >= 5 or date(day.year, 12, 24) <= day or day <= date(day.year, 1, 1):
        day += timedelta(days=1)
    return day


def test_the_reminder_arrives_and_its_link_confirms_then_cancels(
    served: Clinic, catcher: MailCatcher
) -> None:
    day = _next_open_day()
    with served.store.transaction() as session:
        clinic = seed_clinic(session)
        save_settings(session, reminder_lead_hours=336)
        client = session.get(Client, clinic.clients[0])
        assert client is not None
        client.email = "bea@example.org"
        appointment_id = book_appointment(
            session, client_id=client.id, service_id=clinic.facial, room_id=clinic.rooms[0],
            practitioner_id=clinic.practitioners[0],
            start=datetime(day.year, day.month, day.day, 10, 0),
        ).id  # fmt: skip
        save_mail_settings(session, host="127.0.0.1", port=catcher.port, tls_mode="none",
                           username="", password=None, from_address="desk@clinic.example",
                           by="owner@test.example", key=clinic_mail_key())  # fmt: skip

    deadline = time.monotonic() + 20
    while not catcher.received:
        assert time.monotonic() < deadline, "no reminder arrived"
        time.sleep(0.1)
    time.sleep(1)  # more passes of the sender: still one reminder
    (mail,) = catcher.received
    (ics,) = [p for p in mail.iter_attachments() if p.get_filename() == "visit.ics"]
    (event,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert str(event["uid"]) == f"appointment-{appointment_id}@microamp"
    found = re.search(rf"{re.escape(PUBLIC)}(/visit/\S+)", mail.get_body(("plain",)).get_content())
    assert found
    path = found.group(1)

    with httpx.Client(base_url=served.url, timeout=30) as phone:
        page = phone.get(path)
        assert page.status_code == 200 and "Confirm my visit" in page.text
        confirmed = phone.post(f"{path}/confirm", data={"csrf_token": csrf_of(page.text)})
        assert confirmed.status_code == 200 and "Your visit is confirmed" in confirmed.text
        cancelled = phone.post(f"{path}/cancel", data={"csrf_token": csrf_of(confirmed.text)})
        assert "Your visit is cancelled" in cancelled.text
        again = phone.post(f"{path}/confirm", data={"csrf_token": csrf_of(page.text)})
        assert again.status_code == 404
        assert phone.get(path[:-3] + "abc").status_code == 404
    with served.store.session() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None and appointment.state == "cancelled"
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.resource == f"appointment:{appointment_id}")
        ).all()
        assert [row.detail.get("reason") for row in rows] == [None, "by the client"]
