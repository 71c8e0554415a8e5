"""Reminders: an email before each booked visit (the clinic's ``reminder_lead_hours``), with
the visit as an ICS file and confirm / cancel links that need no account.

A reminder is queued under the key ``reminder:{appointment}:{start}``, so the scheduler may run
as often as it likes, in as many workers as there are, and a visit gets one reminder; a visit
moved to another time gets one for its new time. A link names the appointment and its start
under an HMAC of the clinic's key: once the visit moves, the old email's links no longer work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.clinic.ics import visit_to_ics
from microamp.store.base import utc_now
from microamp.store.book import set_state
from microamp.store.book_models import Room, Service
from microamp.store.book_setup import get_settings
from microamp.store.mail import Attachment, queue_mail
from microamp.store.models import Appointment, Client
from microamp.store.previsit import LinkRefused

__all__ = ["answer_visit", "open_visit", "queue_reminders", "visit_token"]

_PURPOSE = b"microamp visit links"
_OPEN_STATES = ("booked", "confirmed")


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, _PURPOSE + b"\0" + body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def visit_token(key: bytes, appointment: Appointment) -> str:
    """The token of the visit's confirm / cancel page: its id and start, and their HMAC."""
    assert appointment.starts_at is not None
    body = f"{appointment.id}.{int(appointment.starts_at.timestamp())}"
    return f"{body}.{_mac(key, body)}"


def open_visit(session: Session, key: bytes, token: str) -> Appointment:
    """The visit ``token`` names, still at the time it was sent; `LinkRefused` otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts[:2]):
        raise LinkRefused("This link is not one the clinic sent.")
    if not hmac.compare_digest(parts[2], _mac(key, f"{parts[0]}.{parts[1]}")):
        raise LinkRefused("This link is not one the clinic sent.")
    appointment = session.get(Appointment, int(parts[0]))
    if appointment is None or appointment.starts_at is None:
        raise LinkRefused("This visit is no longer in the clinic's book.")
    if int(appointment.starts_at.timestamp()) != int(parts[1]):
        raise LinkRefused("This visit has moved: use the links of the newest email.")
    return appointment


def answer_visit(session: Session, appointment: Appointment, action: str) -> Appointment:
    """The client confirms (booked -> confirmed; confirmed stays) or cancels (-> cancelled, "by
    the client" kept in the appointment's notes). `InvalidValue` for a visit past answering."""
    if action == "confirm" and appointment.state == "confirmed":
        return appointment
    if action == "cancel":
        set_state(session, appointment_id=appointment.id, state="cancelled")
        appointment.notes = "\n".join(filter(None, [appointment.notes, "Cancelled by the client."]))
        return appointment
    return set_state(session, appointment_id=appointment.id, state="confirmed")


def _text(client: Client, clinic_name: str, when: str, place: str, url: str) -> str:
    return (
        f"Hello {client.full_name},\n\n"
        f"A reminder of your visit{' to ' + clinic_name if clinic_name else ''}: {when}{place}.\n\n"
        f"Confirm or cancel it here (no account needed):\n{url}\n\n"
        "Please come without make-up and tell your practitioner about any medication.\n"
    )


def queue_reminders(
    session: Session, *, key: bytes, base_url: str, now: datetime | None = None
) -> list[int]:
    """Queue the reminder of every booked or confirmed visit that starts within the clinic's
    lead time, to clients with an email address; the ids of the appointments reminded now."""
    now = now or utc_now()
    settings = get_settings(session)
    zone = clinic_zone(settings.time_zone)
    due = session.execute(
        select(Appointment, Client)
        .join(Client, Client.id == Appointment.client_id)
        .where(
            Appointment.state.in_(_OPEN_STATES),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + timedelta(hours=settings.reminder_lead_hours),
            Client.email.is_not(None),
        )
    ).all()
    queued = []
    for appointment, client in due:
        assert appointment.starts_at is not None and appointment.ends_at is not None
        start_ts = int(appointment.starts_at.timestamp())
        mail_key = f"reminder:{appointment.id}:{start_ts}"
        service = session.get(Service, appointment.service_id) if appointment.service_id else None
        room = session.get(Room, appointment.room_id) if appointment.room_id else None
        summary = service.name if service else "Your visit"
        when = appointment.starts_at.astimezone(zone).strftime("%A %d %B %Y at %H:%M")
        place = f", {room.name}" if room else ""
        url = f"{base_url.rstrip('/')}/visit/{visit_token(key, appointment)}"
        location = ", ".join(filter(None, [settings.name, settings.address.replace("\n", ", ")]))
        ics = visit_to_ics(uid=f"appointment-{appointment.id}@microamp", start=appointment.starts_at,
                           end=appointment.ends_at, summary=summary, stamp=now,
                           location=location, description=f"Confirm or cancel: {url}")  # fmt: skip
        message = queue_mail(session, to=client.email or "", kind="reminder", key=mail_key,
                             subject=f"Reminder: {summary}, {when}",
                             text=_text(client, settings.name, when, place, url),
                             attachments=[Attachment("visit.ics", "text/calendar", ics)],
                             now=now)  # fmt: skip
        if message.created_at == now:
            queued.append(appointment.id)
    return queued
