"""The home app served by a real uvicorn on a temporary SQLite file, its day on a clock the
test moves, and the first run done through the browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.store.db import Store
from microamp.store.home import add_home_photo, home_account
from microamp.store.models import ProgressEntry
from microamp.store.outcomes import client_photos
from microamp.web import WebSettings
from microamp.web.app import open_web_store
from microamp.web.home import create_home_app
from support import faces
from web.conftest import serve

HOME_PASSWORD = "heron lantern quietly"
MONDAY = date(2030, 3, 4)


@dataclass
class Days:
    """The app's day: starts on a Monday, moved by the test."""

    today: date = MONDAY

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int = 1) -> None:
        self.today += timedelta(days=days)


@dataclass
class Home:
    url: str
    store: Store
    days: Days


@contextmanager
def home_on(
    tmp_path: Path, *, device: bool = False, speed: float = 2.0, device_url: str = "sim://?load=gel"
) -> Iterator[Home]:
    """The home app; with ``device``, device mode on a gel-loaded simulator (a station in the
    process, sessions paced ``speed`` times as fast as the wall)."""
    settings = WebSettings(database_url=f"sqlite:///{tmp_path / 'home.db'}", data_dir=tmp_path,
                           secret_key="h" * 40, embedded_station=False,
                           device_url=device_url, session_speed=speed)  # fmt: skip
    store = open_web_store(settings)
    days = Days()
    try:
        app = create_home_app(settings, store=store, today=days, device=device)
        with serve(app) as url:
            yield Home(url, store, days)
    finally:
        store.close()


def first_run(page: Page, home: Home, name: str = "Maria Silva") -> None:
    page.goto(f"{home.url}/")
    expect(page).to_have_url(f"{home.url}/welcome")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Date of birth").fill("1985-06-01")
    page.get_by_label("Choose a password").fill(HOME_PASSWORD)
    page.get_by_label("The password again").fill(HOME_PASSWORD)
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(f"{home.url}/health")
    answer_health_questions(page, home, name)


def answer_health_questions(page: Page, home: Home, name: str = "Maria Silva", **yes: bool) -> None:
    """Every health question answered "no" (but those in ``yes``), signed, then today."""
    page.goto(f"{home.url}/health")
    for key in BOOLEAN_KEYS:
        page.locator(f"#{key}-{'yes' if yes.get(key) else 'no'}").check()
    page.get_by_label("Type your full name to sign").fill(name)
    page.get_by_role("button", name="Save and sign").click()
    expect(page.locator("#health-saved")).to_be_visible()
    page.goto(f"{home.url}/")


def build_quick_routine(page: Page, home: Home, title: str = "Quick") -> None:
    """A 4 s routine of two steps with a cue every second: procerus (midline) 2 x 1 s, then
    frontalis (each side) 1 x 1 s."""
    page.goto(f"{home.url}/build")
    page.get_by_label("Name of the routine").fill(title)
    page.get_by_label("A cue every").select_option("1.0")
    page.locator("#muscle-0").select_option("procerus")
    page.locator("#reps-0").select_option("2")
    page.locator("#seconds-0").select_option("1.0")
    page.locator("#muscle-1").select_option("frontalis")
    page.locator("#reps-1").select_option("1")
    page.locator("#seconds-1").select_option("1.0")
    page.get_by_role("button", name="Save and open the routine").click()
    expect(page).to_have_url(f"{home.url}/guide/my-{title.lower()}")


def run_to_the_end(page: Page) -> None:
    guide = page.locator("#guide")
    expect(guide).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Start").click()
    expect(guide).to_have_attribute("data-state", "completed", timeout=30_000)
    expect(guide).to_have_attribute("data-logged", "sent", timeout=10_000)


def her_photos(home: Home) -> list[ProgressEntry]:
    """The progress photos on the record of the home account's client."""
    with home.store.session() as db:
        account = home_account(db)
        assert account is not None
        return client_photos(db, client_id=account.client_id)


def an_earlier_photo(home: Home) -> int:
    """Her front photo of the 1st of the month (the astronaut, measured and comparable): the
    ghost the camera page lays over its preview. Returns its entry's id."""
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        entry = add_home_photo(db, account, photo=faces.jpeg(faces.astronaut()), view="front",
                               taken_on=home.days.today.replace(day=1), today=home.days.today,
                               photo_use_consent=True)  # fmt: skip
        assert entry.measurement is not None and entry.measurement["comparable"] is True
        return entry.id
