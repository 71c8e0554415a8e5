"""Reminders before a visit, received by a real SMTP server (aiosmtpd) with a valid ICS file;
queued once whatever runs the scheduler; confirm and cancel links that the visit's move ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from microamp.store import Store
from microamp.store.book import book_appointment, move_appointment
from microamp.store.mail import save_mail_settings
from microamp.store.models import Appointment, Client
from microamp.store.outbox import send_due
from microamp.store.previsit import LinkRefused
from microamp.store.reminders import answer_visit, open_visit, queue_reminders, visit_token
from support.clinic_book import MONDAY, seed_clinic
from support.smtp import MailCatcher, clinic_mail_key

KEY = b"r" * 40
URL = "https://clinic.example"
# Sunday 10:00 UTC: the Monday 10:00 (Lisbon = UTC in winter) visit is 24 h away
NOW = datetime(MONDAY.year, MONDAY.month, MONDAY.day, 10, 0, tzinfo=UTC) - timedelta(hours=24)


def _booked(store: Store, smtp_port: int) -> int:
    with store.transaction() as session:
        clinic = seed_clinic(session)
        client = session.get(Client, clinic.clients[0])
        assert client is not None
        client.email = "bea@example.org"
        appointment = book_appointment(session, client_id=client.id, service_id=clinic.facial,
                                       room_id=clinic.rooms[0], practitioner_id=clinic.practitioners[0],
                                       start=datetime(MONDAY.year, MONDAY.month, MONDAY.day, 10, 0))  # fmt: skip
        save_mail_settings(session, host="127.0.0.1", port=smtp_port, tls_mode="none",
                           username="", password=None, from_address="desk@clinic.example",
                           by="owner@x", key=clinic_mail_key())  # fmt: skip
        return appointment.id


def test_a_reminder_arrives_once_with_a_valid_calendar_file(
    store: Store, smtp_server: MailCatcher
) -> None:
    appointment_id = _booked(store, smtp_server.port)
    with store.transaction() as session:
        assert queue_reminders(session, key=KEY, base_url=URL, now=NOW - timedelta(hours=1)) == []
    for _ in range(3):  # the scheduler runs often, in every worker
        with store.transaction() as session:
            queue_reminders(session, key=KEY, base_url=URL, now=NOW)
        send_due(store, key=clinic_mail_key(), now=lambda: NOW)

    (mail,) = smtp_server.received
    assert mail["To"] == "bea@example.org" and "Microcurrent facial" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "Monday 07 December 2026 at 10:00, Room 1" in body
    assert f"{URL}/visit/" in body
    (ics,) = [part for part in mail.iter_attachments() if part.get_filename() == "visit.ics"]
    assert ics.get_content_type() == "text/calendar"
    (event,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert str(event["uid"]) == f"appointment-{appointment_id}@microamp"
    assert "Clinica Luz" in str(event["location"])


def test_confirm_then_cancel_by_the_client_and_a_moved_visit_ends_the_old_links(
    store: Store, smtp_server: MailCatcher
) -> None:
    appointment_id = _booked(store, smtp_server.port)
    with store.transaction() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        token = visit_token(KEY, appointment)
    with store.transaction() as session:
        answer_visit(session, open_visit(session, KEY, token), "confirm")
    with store.transaction() as session:
        assert open_visit(session, KEY, token).state == "confirmed"
        with pytest.raises(LinkRefused):
            open_visit(session, KEY, token[:-2] + "xx")
        with pytest.raises(LinkRefused):
            open_visit(session, b"another" * 6, token)
        move_appointment(session, appointment_id=appointment_id,
                         start=datetime(MONDAY.year, MONDAY.month, MONDAY.day, 14, 0))  # fmt: skip
    with store.transaction() as session:
        with pytest.raises(LinkRefused, match="moved"):
            open_visit(session, KEY, token)
        moved = session.get(Appointment, appointment_id)
        assert moved is not None
        fresh = visit_token(KEY, moved)
    with store.transaction() as session:
        cancelled = answer_visit(session, open_visit(session, KEY, fresh), "cancel")
        assert cancelled.state == "cancelled" and "Cancelled by the client." in (
            cancelled.notes or ""
        )
