"""A reception day in a real browser: the owner sets the clinic up on its settings page;
reception books three clients in two rooms, is refused a taken slot with its reason, moves
one, marks a no-show and checks a client in; the practitioner starts the session from the
appointment on the book and, once the record completes, so does the appointment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from microamp.store.crud import create_client
from microamp.store.models import Appointment
from web.browsing import CHROMIUM, choose_client, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on
from web.test_api_intensity import wait_done

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def day_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("reception-day")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        with served.store.transaction() as db:
            create_client(db, full_name="Cara Diaz", date_of_birth=date(1979, 2, 2))
        yield served


def _signed_in(browser: Browser, clinic: Clinic, role: str) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return page


def _set_up_the_clinic(page: Page, clinic: Clinic) -> None:
    page.goto(clinic.url + "/settings/clinic")
    page.get_by_label("Name", exact=True).fill("Lumen Skin")
    page.get_by_label("Time zone").fill("UTC")
    for day in DAYS:  # open every day, so the test runs on any
        page.get_by_label(day).fill("07:00-21:00")
    page.get_by_role("button", name="Save the clinic").click()
    expect(page.get_by_test_id("clinic-done")).to_contain_text("saved")
    for room in ("Room A", "Room B"):
        page.get_by_label("Room name").fill(room)
        page.get_by_role("button", name="Add the room").click()
        expect(page.get_by_test_id("rooms")).to_contain_text(room)
    page.get_by_label("Service name").fill("Lift facial")
    page.get_by_label("Duration").fill("60")
    page.get_by_label("Protocol", exact=True).fill("home-express")
    page.get_by_label("Steps").fill("Cleansing, 10, cleansing\nMicrocurrent, 40, microcurrent")
    page.get_by_role("button", name="Add the service").click()
    expect(page.get_by_test_id("services")).to_contain_text("Lift facial")


def _book(page: Page, client: str, room: str, practitioner: str, start: str) -> None:
    form = page.locator('form[action="/book"]')
    choose_client(form, client)
    form.get_by_label("Service").select_option(label="Lift facial")
    form.get_by_label("Room").select_option(label=room)
    form.get_by_label("Practitioner").select_option(label=practitioner)
    form.get_by_label("Start").fill(start)
    form.get_by_role("button", name="Book").click()


def _visit(page: Page, client: str) -> str:
    """The ``data-testid`` of the client's one visit on the day shown."""
    card = page.locator(".visit").filter(has_text=client)
    expect(card).to_have_count(1)
    testid = card.get_attribute("data-testid")
    assert testid is not None
    return testid


def test_a_reception_day(browser: Browser, day_clinic: Clinic) -> None:
    owner = _signed_in(browser, day_clinic, "owner")
    _set_up_the_clinic(owner, day_clinic)

    desk = _signed_in(browser, day_clinic, "reception")
    desk.goto(day_clinic.url + "/book")
    _book(desk, "Ana Lima", "Room A", "Practitioner", "09:00")
    _book(desk, "Ben Carter", "Room B", "Owner", "09:00")
    _book(desk, "Cara Diaz", "Room A", "Owner", "09:30")
    summary = desk.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Room A is booked 09:00-10:00")
    expect(desk.locator('form[action="/book"]').get_by_label("Start")).to_have_value("09:30")
    _book(desk, "Cara Diaz", "Room A", "Owner", "11:00")
    grid = desk.get_by_test_id("book-grid")
    for name in ("Ana Lima", "Ben Carter", "Cara Diaz"):
        expect(grid).to_contain_text(name)

    desk.get_by_role("link", name="Move: Cara Diaz at 11:00-12:00").click()
    desk.get_by_label("Start").fill("13:00")
    desk.get_by_label("End").fill("14:30")
    desk.get_by_role("button", name="Move the visit").click()
    cara = desk.get_by_test_id(_visit(desk, "Cara Diaz"))
    expect(cara).to_contain_text("13:00-14:30")

    desk.get_by_role("button", name="No-show: Ben Carter at 09:00-10:00").click()
    expect(desk.get_by_test_id(_visit(desk, "Ben Carter"))).to_contain_text("no show")
    desk.get_by_role("button", name="Check in: Ana Lima at 09:00-10:00").click()
    ana = _visit(desk, "Ana Lima")
    expect(desk.get_by_test_id(ana)).to_contain_text("checked in")
    # reception books and moves, but does not run treatments
    expect(
        desk.get_by_role("link", name="Start the session: Ana Lima at 09:00-10:00")
    ).to_have_count(0)

    nurse = _signed_in(browser, day_clinic, "practitioner")
    nurse.goto(day_clinic.url + "/book?by=practitioner")
    nurse.get_by_role("link", name="Start the session: Ana Lima at 09:00-10:00").click()
    expect(nurse.get_by_test_id("console-visit")).to_be_visible()
    expect(nurse.get_by_label("Protocol")).to_have_value("home-express")
    nurse.get_by_role("button", name="Run prechecks").click()
    start = nurse.get_by_test_id("start")
    expect(start).to_be_visible(timeout=20_000)
    start.click()
    expect(nurse).to_have_url(re.compile(r"/live/\w+$"))
    with day_clinic.api("practitioner") as api:
        wait_done(api, nurse.url.rsplit("/", 1)[1])
    expect(nurse.get_by_test_id("status")).to_have_text("completed")
    nurse.goto(day_clinic.url + "/book")
    expect(nurse.get_by_test_id(ana)).to_contain_text("completed")
    with day_clinic.store.session() as db:
        visit = db.get(Appointment, int(ana.removeprefix("visit-")))
        assert visit is not None and visit.state == "completed"
        assert visit.treatment_session_id is not None
        states = dict(db.execute(select(Appointment.id, Appointment.state)).all())
    assert sorted(states.values()) == ["booked", "completed", "no_show"]
