"""The owner's clinic settings page: the clinic, its hours, closures, rooms and services saved
from forms; a bad value keeps what was typed and is named beside its field; owner only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import date, time
from pathlib import Path

import pytest

from microamp.store.book_setup import (
    clinic_hours,
    get_settings,
    list_closures,
    list_rooms,
    list_services,
)
from web.conftest import Clinic, clinic_on, csrf_of

HOURS = {f"hours_{d}": "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(scope="module")
def settings_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("clinic-settings")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        yield served


def _clinic_form(**changes: str) -> dict[str, str]:
    form = {"name": "Lumen Skin", "address": "12 Elm Street", "time_zone": "Europe/London",
            "reminder_lead_hours": "48", "retention_years": "0", "care_sheet": "No make-up for 12 hours.",
            "hours_sat": "10:00-13:00, 14:00-16:00", "hours_sun": "", **HOURS}  # fmt: skip
    form.update(changes)
    return form


def test_the_clinic_and_its_hours_are_saved_and_shown_back(settings_clinic: Clinic) -> None:
    with closing(settings_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/clinic").text)
        saved = owner.post("/settings/clinic", data={**_clinic_form(), "csrf_token": token})
        assert saved.status_code == 303
        shown = owner.get("/settings/clinic?done=saved").text
    assert 'value="10:00-13:00, 14:00-16:00"' in shown and 'value="Europe/London"' in shown
    with settings_clinic.store.session() as db:
        stored = get_settings(db)
        hours = clinic_hours(stored)
        assert (stored.name, stored.time_zone, stored.reminder_lead_hours) == (
            "Lumen Skin", "Europe/London", 48)  # fmt: skip
        assert hours["sat"] == [(time(10), time(13)), (time(14), time(16))]
        assert hours["sun"] == [] and hours["mon"] == [(time(9), time(18))]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours_tue": "18:00-09:00"}, "hours_tue", "Tuesday hours: closes after it opens"),
        ({"hours_wed": "nine to six"}, "hours_wed", "Wednesday hours: periods as 09:00-18:00"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Time zone:"),
        ({"reminder_lead_hours": "500"}, "reminder_lead_hours", "Reminder lead: 1-336 hours"),
    ],
)
def test_a_bad_value_keeps_what_was_typed_beside_its_field(
    settings_clinic: Clinic, changes: dict[str, str], field: str, message: str
) -> None:
    typed = _clinic_form(name="Typed Name", **changes)
    with closing(settings_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/clinic").text)
        answer = owner.post("/settings/clinic", data={**typed, "csrf_token": token})
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text and message in answer.text
    assert 'value="Typed Name"' in answer.text and f'value="{typed[field]}"' in answer.text
    with settings_clinic.store.session() as db:
        assert get_settings(db).name != "Typed Name"


def test_closures_rooms_and_services_are_added_and_refused_by_field(
    settings_clinic: Clinic,
) -> None:
    with closing(settings_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/clinic").text)
        post = lambda path, **data: owner.post(path, data={**data, "csrf_token": token})  # noqa: E731
        assert post("/settings/clinic/closures", first_day="2030-12-24",
                    last_day="2030-12-26", reason="Christmas").status_code == 303  # fmt: skip
        wrong = post("/settings/clinic/closures", first_day="2030-08-10",
                     last_day="2030-08-01", reason="Summer")  # fmt: skip
        assert wrong.status_code == 422 and 'id="last_day-error"' in wrong.text
        assert 'value="Summer"' in wrong.text
        assert post("/settings/clinic/rooms", room_name="Garden room").status_code == 303
        twice = post("/settings/clinic/rooms", room_name="Garden room")
        assert twice.status_code == 422 and 'id="room_name-error"' in twice.text
        steps = "Cleansing, 10, cleansing\nMicrocurrent, 30, microcurrent\nMask, 15, mask"
        assert post("/settings/clinic/services", service_name="Lift facial", duration_min="60",
                    buffer_min="15", price="120.50", steps=steps).status_code == 303  # fmt: skip
        bad = post("/settings/clinic/services", service_name="Peel", duration_min="45",
                   steps="Steam, 10, sauna")  # fmt: skip
        assert bad.status_code == 422 and 'id="steps-error"' in bad.text
        assert "Steps: line 1: a kind of" in bad.text and 'value="Peel"' in bad.text
        long = post("/settings/clinic/services", service_name="Marathon", duration_min="900")
        assert long.status_code == 422 and 'id="duration_min-error"' in long.text
        shown = owner.get("/settings/clinic").text
    assert "Christmas" in shown and "Garden room" in shown and "Lift facial" in shown
    with settings_clinic.store.session() as db:
        closures = list_closures(db)
        assert [(c.first_day, c.last_day) for c in closures] == [
            (date(2030, 12, 24), date(2030, 12, 26))]  # fmt: skip
        assert [r.name for r in list_rooms(db)] == ["Garden room"]
        (service,) = list_services(db)
        assert (service.price_minor, service.buffer_min) == (12050, 15)
        assert [s["kind"] for s in service.steps] == ["cleansing", "microcurrent", "mask"]
        closure_id, room_id, service_id = closures[0].id, list_rooms(db)[0].id, service.id
    with closing(settings_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/clinic").text)
        for path in (f"/settings/clinic/closures/{closure_id}/remove",
                     f"/settings/clinic/rooms/{room_id}/active",
                     f"/settings/clinic/services/{service_id}/active"):  # fmt: skip
            assert (
                owner.post(path, data={"csrf_token": token, "active": "false"}).status_code == 303
            )
    with settings_clinic.store.session() as db:
        assert list_closures(db) == []
        assert not list_rooms(db)[0].active and not list_services(db)[0].active


@pytest.mark.parametrize("role", ["practitioner", "reception"])
def test_only_the_owner_opens_the_clinic_settings(settings_clinic: Clinic, role: str) -> None:
    with closing(settings_clinic.browser_client(role)) as someone:
        assert someone.get("/settings/clinic").status_code == 403
        token = csrf_of(someone.get("/book").text)
        refused = someone.post("/settings/clinic/rooms",
                               data={"room_name": "Sneaky", "csrf_token": token})  # fmt: skip
        assert refused.status_code == 403
