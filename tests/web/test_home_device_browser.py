"""Device mode in chromium at a phone's 390 x 844, on the simulator through the station: the
Stop button is on screen at every step of the routine, and Stop pressed ends the output, says
so in the live region, and the record says stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store.session_models import SessionEvent, TreatmentSession
from web.browsing import CHROMIUM, launch_chromium
from web.home_served import Home, first_run, home_on

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    # fast enough that a step passes in about a second and a half of the wall
    with home_on(tmp_path, device=True, speed=16.0) as served:
        yield served


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def _stop_on_screen(page: Page) -> None:
    stop = page.locator("#stop")
    expect(stop).to_be_visible()
    expect(stop).to_be_in_viewport(ratio=1)
    box = stop.bounding_box()
    assert box is not None and box["height"] >= 72 and box["width"] >= 300


def test_stop_is_on_screen_at_every_step_and_stop_ends_the_output(page: Page, home: Home) -> None:
    first_run(page, home)
    page.get_by_role("link", name="On the device: Home express").click()
    _stop_on_screen(page)  # before anything runs: there, and nothing to stop
    expect(page.locator("#stop")).to_be_disabled()
    page.get_by_role("button", name="Start on the device").click()

    total = int(page.locator("#device-progress").inner_text().rsplit(" ", 1)[1])
    seen: list[int] = []
    # every step but the last, each checked as it comes; Stop pressed in the last one
    while len(seen) < total:
        expect(page.locator("#device-status")).to_have_text("running", timeout=10_000)
        done = int(page.locator("#device-steps").inner_text())
        if done not in seen:
            seen.append(done)
            page.mouse.wheel(0, 2000)  # wherever she scrolls, Stop stays in view
            _stop_on_screen(page)
            expect(page.locator("#stop")).to_be_enabled()
        if done == total - 1:
            break
        page.wait_for_timeout(100)
    assert seen == list(range(total)), seen

    page.get_by_role("button", name="Stop", exact=True).click()
    announce = page.locator("#device-announce")
    expect(announce).to_contain_text("Output is off", timeout=10_000)
    expect(page.locator("#device-status")).to_have_text("stopped")
    expect(page.get_by_role("button", name="Stopped: no output")).to_be_disabled()
    assert announce.get_attribute("aria-live") == "assertive"
    _stop_on_screen(page)

    with home.store.transaction() as db:
        (record,) = db.scalars(select(TreatmentSession))
        assert record.status == "stopped"
        events = list(db.scalars(select(SessionEvent).where(SessionEvent.session_id == record.id)))
        (ended,) = [e for e in events if e.kind == "ended"]
        assert ended.data["status"] == "stopped"
        assert ended.data["steps_completed"] == ended.data["steps_total"] - 1


def test_a_fault_ends_the_output_and_the_live_region_says_why(page: Page, tmp_path: Path) -> None:
    with home_on(tmp_path, device=True, speed=4.0,
                 device_url="sim://?load=gel&fault=contact-loss@4") as home:  # fmt: skip
        first_run(page, home)
        page.goto(f"{home.url}/device/home-express")
        page.get_by_role("button", name="Start on the device").click()
        announce = page.locator("#device-announce")
        expect(announce).to_contain_text("lost contact", timeout=15_000)
        expect(announce).to_contain_text("Output is off")
        expect(page.locator("#device-status")).to_have_text("aborted")
        _stop_on_screen(page)
        with home.store.transaction() as db:
            (record,) = db.scalars(select(TreatmentSession))
            assert record.status == "aborted"


def _build_three_zones(page: Page, home: Home) -> None:
    """Her routine: procerus (brows) 2 x 15 s, frontalis (forehead) and platysma (neck), each
    side 1 x 15 s."""
    page.goto(f"{home.url}/build")
    page.get_by_label("Name of the routine").fill("Three")
    for row, (muscle, reps) in enumerate((("procerus", "2"), ("frontalis", "1"),
                                          ("platysma", "1"))):  # fmt: skip
        page.locator(f"#muscle-{row}").select_option(muscle)
        page.locator(f"#reps-{row}").select_option(reps)
        page.locator(f"#seconds-{row}").select_option("15.0")
    page.get_by_role("button", name="Save and open the routine").click()
    expect(page).to_have_url(f"{home.url}/guide/my-three")


def test_her_built_routine_with_a_skipped_zone_runs_on_the_device_with_stop_at_every_step(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    _build_three_zones(page, home)
    page.goto(f"{home.url}/settings")
    page.locator('#skip-first input[value="forehead"]').check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{home.url}/settings?saved=1")

    page.goto(f"{home.url}/")
    page.get_by_role("link", name="On the device: Three").click()
    expect(page.locator("#device-skipped")).to_contain_text("forehead")
    expect(page.locator("#device-steps-planned li")).to_have_count(2)
    _stop_on_screen(page)
    page.get_by_role("button", name="Start on the device").click()

    total = int(page.locator("#device-progress").inner_text().rsplit(" ", 1)[1])
    assert total == 2  # the forehead left out
    seen: list[int] = []
    while len(seen) < total:
        expect(page.locator("#device-status")).to_have_text("running", timeout=10_000)
        done = int(page.locator("#device-steps").inner_text())
        if done not in seen:
            seen.append(done)
            page.mouse.wheel(0, 2000)
            _stop_on_screen(page)
            expect(page.locator("#stop")).to_be_enabled()
        if done == total - 1:
            break
        page.wait_for_timeout(100)
    assert seen == list(range(total)), seen

    # in the last step she turns it down, then stops
    page.get_by_role("button", name="Lower the level").click()
    expect(page.locator("#device-level")).to_have_text("90")
    expect(page.locator("#device-announce")).to_contain_text("Level 90%")
    _stop_on_screen(page)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator("#device-announce")).to_contain_text("Output is off", timeout=10_000)
    expect(page.get_by_role("button", name="Stopped: no output")).to_be_disabled()
    expect(page.get_by_role("button", name="Lower the level")).to_be_disabled()

    with home.store.transaction() as db:
        (record,) = db.scalars(select(TreatmentSession))
        assert record.status == "stopped" and record.protocol_name == "my-three"
        assert record.personalisation["skipped"] == ["forehead"]
        assert record.personalisation["skipped_steps"] == [
            "Frontalis (occipitofrontalis, frontal belly)"
        ]
        events = list(db.scalars(select(SessionEvent).where(SessionEvent.session_id == record.id)))
        assert {e.data["zone"] for e in events if e.kind == "step_started"} == {"brows", "neck"}
        assert [e.data["level"] for e in events if e.kind == "intensity_changed"] == [0.9]
