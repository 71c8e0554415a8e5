"""Revision 0011 keeps a course plan's sessions: each becomes an appointment of the plan's
client, its status a state, with no time until it is booked; and the settings row set up
before it keeps its name and zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from microamp.store import StoreSettings, open_store
from microamp.store.book_setup import get_settings
from microamp.store.db import make_engine
from microamp.store.migrate import migrate_to
from microamp.store.models import Appointment


def _migrate(database_url: str, settings: StoreSettings, revision: str, *, down: bool) -> None:
    engine = make_engine(database_url, settings)
    try:
        # as `microamp db upgrade` migrates: one transaction, under the lock, keys checked
        migrate_to(engine, revision, down=down)
    finally:
        engine.dispose()


def _seed_0010(database_url: str, settings: StoreSettings) -> None:
    engine = make_engine(database_url, settings)
    now = datetime(2026, 11, 20, tzinfo=UTC).replace(tzinfo=None)
    try:
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO clinic_settings (id, name, time_zone, updated_at) "
                    "VALUES (1, 'Clinica Luz', 'Europe/Lisbon', :now)"
                ),
                {"now": now},
            )
            c.execute(
                sa.text(
                    "INSERT INTO clients (id, full_name, date_of_birth, fitzpatrick_type, concerns, "
                    "preferred_weekdays, notes, created_at) VALUES "
                    "(7, 'Bea Costa', :dob, NULL, '[]', '[]', '', :now)"
                ),
                {"dob": date(1980, 1, 1), "now": now},
            )
            c.execute(
                sa.text(
                    "INSERT INTO course_plans (id, client_id, template, start_date, weekdays, months, "
                    "created_at) VALUES (3, 7, 'clinic-initial', :d, '[\"mon\"]', 6, :now)"
                ),
                {"d": date(2026, 11, 24), "now": now},
            )
            for number, status in enumerate(("done", "missed", "cancelled", "planned"), 1):
                c.execute(
                    sa.text(
                        "INSERT INTO appointments (plan_id, number, on_date, phase, checkin, status) "
                        "VALUES (3, :n, :d, 'initial', :ck, :s)"
                    ),
                    {"n": number, "d": date(2026, 11, 23 + number), "ck": number == 4, "s": status},
                )
    finally:
        engine.dispose()  # fmt: skip


def test_plan_sessions_become_appointments_with_states(
    database_url: str, settings: StoreSettings
) -> None:
    _migrate(database_url, settings, "0010", down=False)
    _seed_0010(database_url, settings)
    with open_store(database_url, settings=settings, upgrade=True) as store:
        with store.session() as session:
            rows = list(session.scalars(sa.select(Appointment).order_by(Appointment.number)))
            assert [a.state for a in rows] == ["completed", "no_show", "cancelled", "booked"]
            assert {a.client_id for a in rows} == {7}
            assert all(a.starts_at is None and a.room_id is None for a in rows)
            assert rows[3].checkin
            clinic = get_settings(session)
            assert (clinic.name, clinic.time_zone) == ("Clinica Luz", "Europe/Lisbon")
            assert clinic.reminder_lead_hours == 24
    _migrate(database_url, settings, "0010", down=True)
    engine = make_engine(database_url, settings)
    try:
        with engine.connect() as c:
            statuses = c.execute(sa.text("SELECT status FROM appointments ORDER BY number"))
            assert [s for (s,) in statuses] == ["done", "missed", "cancelled", "planned"]
    finally:
        engine.dispose()
