"""The console's gate decides for today in the clinic's time zone, on the app's wall clock,
never the server's own date: a client screened today there may be treated at once, and one
whose screening is dated tomorrow there is not screened yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from microamp.clinic.intake import nothing_to_report
from microamp.store.book_setup import save_settings
from microamp.store.crud import create_client, record_consent, record_intake
from web.conftest import Clinic, clinic_on, csrf_of

# 20:00 UTC on 4 March 2030 is already 5 March at Kiritimati (UTC+14)
WALL = datetime(2030, 3, 4, 20, 0, tzinfo=UTC)
CLINIC_DAY = date(2030, 3, 5)
BORN = date(1988, 4, 12)


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, wall_clock=lambda: WALL) as c:
        with c.store.transaction() as db:
            save_settings(db, name="Clinica Luz", time_zone="Pacific/Kiritimati")
        yield c


def _screened_on(clinic: Clinic, name: str, day: date) -> int:
    with clinic.store.transaction() as db:
        client = create_client(db, full_name=name, date_of_birth=BORN, today=day)
        record_intake(db, client_id=client.id, answers=nothing_to_report(BORN), on=day, today=day)
        record_consent(db, client_id=client.id, typed_signature=name)
        return client.id


def _prechecks(browser: httpx.Client, client_id: int) -> str:
    token = csrf_of(browser.get("/console").text)
    choice = {"client_id": str(client_id), "protocol": "home-express",
              "device_url": "sim://?load=gel", "intensity": "100", "csrf_token": token}  # fmt: skip
    answer = browser.post("/console/prechecks", data=choice)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_client_screened_today_in_the_clinics_zone_passes_the_consoles_gate(
    clinic: Clinic,
) -> None:
    assert CLINIC_DAY != date.today()  # the server's own date decides nothing here
    today_there = _screened_on(clinic, "Rita Sousa", CLINIC_DAY)
    tomorrow_there = _screened_on(clinic, "Lia Costa", date(2030, 3, 6))
    browser = clinic.browser_client("practitioner")
    try:
        allowed = _prechecks(browser, today_there)
        early = _prechecks(browser, tomorrow_there)
    finally:
        browser.close()
    assert 'data-testid="refusals"' not in allowed and "In order." in allowed
    assert 'data-testid="refusals"' in early and "No screening on file" in early
