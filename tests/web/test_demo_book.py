"""The demo clinic has a book to show: Mon-Fri 09:00-18:00, two rooms, three services with
their steps, and visits on the first working day and later in the week."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from microamp.store.book_setup import clinic_hours, get_settings, list_rooms, list_services
from microamp.store.models import Appointment
from microamp.web.app import open_web_store
from microamp.web.demo import seed_demo
from microamp.web.settings import WebSettings


def test_the_demo_clinic_has_rooms_services_hours_and_visits(tmp_path: Path) -> None:
    web = WebSettings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", data_dir=tmp_path,
                      session_speed=400.0, secret_key="s" * 40)  # fmt: skip
    store = open_web_store(web)
    saturday = date(2026, 12, 5)
    try:
        seed_demo(store, web, today=saturday)
        with store.session() as db:
            hours = clinic_hours(get_settings(db))
            assert [d for d, periods in hours.items() if periods] == [
                "mon",
                "tue",
                "wed",
                "thu",
                "fri",
            ]
            assert f"{hours['mon'][0][0]:%H:%M}-{hours['mon'][0][1]:%H:%M}" == "09:00-18:00"
            assert len(list_rooms(db)) == 2
            services = list_services(db)
            assert len(services) == 3 and all(s.steps for s in services)
            timed = list(db.scalars(select(Appointment).where(Appointment.starts_at.is_not(None))))
            days = sorted({a.on_date for a in timed})
            assert days[0] == date(2026, 12, 7)  # the Monday after
            assert sum(a.on_date == days[0] for a in timed) == 3 and len(days) == 3
    finally:
        store.close()
