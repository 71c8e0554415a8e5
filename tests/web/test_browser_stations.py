"""The console in a real browser, its session on a station process: a Stop the station never
answers (the process frozen) is said at once in the urgent live region, not silently dropped."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD
from web.test_stations import clinic_without_station, room, started, station_process, until

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, expect  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


def test_a_stop_the_station_does_not_answer_is_announced_as_failed(
    browser: Browser, tmp_path: Path
) -> None:
    with clinic_without_station("sqlite", tmp_path) as (clinic, url), clinic.api("owner") as api:
        with station_process(url, tmp_path) as station:
            live = started(clinic, api)
            until("the first step", lambda: api.get(f"/api/v1/sessions/{live['id']}").json()
                  ["state"]["status"] == "running", 60)  # fmt: skip
            context = browser.new_context(viewport={"width": 1180, "height": 900})
            page = context.new_page()
            try:
                page.goto(f"{clinic.url}/signin")
                page.get_by_label("Email").fill(clinic.emails["practitioner"])
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.goto(f"{clinic.url}/live/{live['id']}")
                expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)
                station.send_signal(signal.SIGSTOP)
                try:
                    page.get_by_test_id("stop").click()
                    urgent = page.get_by_test_id("announce-urgent")
                    expect(urgent).to_contain_text("Stop did not take effect", timeout=30_000)
                    expect(page.locator("#fault")).to_contain_text("Press STOP again")
                finally:
                    station.send_signal(signal.SIGCONT)
            finally:
                context.close()
            until("the station free", lambda: not (room(api) or {}).get("busy"), 30)
