"""Drag on the book in a real browser (Playwright mouse moves): a visit dragged to another
room and time lands there, its lower edge dragged down makes it longer, a drop onto a taken
slot is refused with its reason and the visit stays; and the arrow keys on its grip move it
for whoever uses no pointer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from microamp.store.book import book_appointment, get_appointment
from microamp.store.book_setup import list_rooms, list_services
from microamp.store.models import User
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, add_book, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

TODAY = date.today().isoformat()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def drag_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("book-drag")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        served.clients["visit"] = add_book(served)
        with served.store.transaction() as db:
            rooms = {r.name: r.id for r in list_rooms(db)}
            (service,) = list_services(db)
            owner = db.scalar(select(User.id).where(User.role == "owner"))
            assert owner is not None
            book_appointment(
                db, client_id=served.clients["blocked"], service_id=service.id,
                room_id=rooms["Room 2"], practitioner_id=owner,
                start=datetime.combine(date.today(), time(13, 0)),
            )  # fmt: skip
            served.clients.update(room1=rooms["Room 1"], room2=rooms["Room 2"])
        yield served


def _desk(browser: Browser, clinic: Clinic) -> Page:
    # tall enough that the whole day's grid is on screen: the mouse moves in the viewport
    page = browser.new_context(viewport={"width": 1366, "height": 4200}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails["reception"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(clinic.url + "/book")
    return page


def _cell(page: Page, clinic: Clinic, at: str, room: str) -> Locator:
    return page.locator(f'td[data-start="{TODAY}T{at}"][data-room="{clinic.clients[room]}"]')


def _drag(page: Page, handle: Locator, target: Locator) -> None:
    start, end = handle.bounding_box(), target.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=8)
    page.mouse.up()


def _span(clinic: Clinic) -> tuple[str, str, int | None]:
    with clinic.store.session() as db:
        a = get_appointment(db, appointment_id=clinic.clients["visit"])
        assert a.starts_at is not None and a.ends_at is not None
        return f"{a.starts_at:%H:%M}", f"{a.ends_at:%H:%M}", a.room_id


def test_a_visit_is_dragged_resized_and_refused_a_taken_slot(
    browser: Browser, drag_clinic: Clinic
) -> None:
    page = _desk(browser, drag_clinic)
    card = page.get_by_test_id(f"visit-{drag_clinic.clients['visit']}")
    status = page.get_by_test_id("drop-status")

    _drag(page, card.locator("[data-grip]"), _cell(page, drag_clinic, "11:00", "room2"))
    expect(status).to_contain_text("Moved: Ana Lima")
    expect(_cell(page, drag_clinic, "11:00", "room2").locator(".visit")).to_contain_text(
        "11:00-12:00"
    )
    assert _span(drag_clinic) == ("11:00", "12:00", drag_clinic.clients["room2"])

    _drag(page, card.locator("[data-resize]"), _cell(page, drag_clinic, "12:15", "room2"))
    expect(card).to_contain_text("11:00-12:30")
    assert _span(drag_clinic)[:2] == ("11:00", "12:30")

    _drag(page, card.locator("[data-grip]"), _cell(page, drag_clinic, "13:00", "room2"))
    expect(status).to_contain_text("Not moved: Ana Lima stays at 11:00-12:30.")
    expect(status).to_contain_text("Room 2 is booked 13:00-14:00 (buffer included)")
    expect(_cell(page, drag_clinic, "11:00", "room2").locator(".visit")).to_have_count(1)
    assert _span(drag_clinic)[:2] == ("11:00", "12:30")

    # the arrow keys on the grip: 15 minutes earlier, then to Room 1 on its left
    grip = card.locator("[data-grip]")
    grip.focus()
    page.keyboard.press("ArrowUp")
    expect(_cell(page, drag_clinic, "10:45", "room2").locator(".visit")).to_have_count(1)
    expect(
        page.get_by_test_id(f"visit-{drag_clinic.clients['visit']}").locator("[data-grip]")
    ).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(_cell(page, drag_clinic, "10:45", "room1").locator(".visit")).to_have_count(1)
    assert _span(drag_clinic) == ("10:45", "12:15", drag_clinic.clients["room1"])


def test_a_visit_is_dragged_to_another_day_of_the_week(
    browser: Browser, drag_clinic: Clinic
) -> None:
    page = _desk(browser, drag_clinic)
    page.goto(drag_clinic.url + "/book/week")
    with drag_clinic.store.session() as db:
        visit = get_appointment(db, appointment_id=drag_clinic.clients["visit"])
        assert visit.starts_at is not None
        at, room = f"{visit.starts_at:%H:%M}", visit.room_id
    # the next day of the same week, or the one before on a Sunday
    other = date.today() + timedelta(days=-1 if date.today().weekday() == 6 else 1)
    card = page.get_by_test_id(f"visit-{drag_clinic.clients['visit']}")
    _drag(page, card.locator("[data-grip]"), page.locator(f'td[data-start="{other}T{at}"]'))
    expect(page.get_by_test_id("drop-status")).to_contain_text("Moved: Ana Lima")
    expect(page.locator(f'td[data-start="{other}T{at}"] .visit')).to_have_count(1)
    with drag_clinic.store.session() as db:
        moved = get_appointment(db, appointment_id=drag_clinic.clients["visit"])
        assert moved.on_date == other and moved.room_id == room
