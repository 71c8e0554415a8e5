"""The whole facial service in a real browser: a practitioner runs a visit of a service with
manual steps from the console: ticks cleansing with a product, times the massage (paused,
reloaded, resumed, done), runs the microcurrent step on the simulator, takes the skin analysis
of the visit, finishes the mask by keyboard, and the record shows each step with its times and
products."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from microamp.store.client_models import SkinAnalysis
from microamp.store.models import Appointment
from microamp.store.visit_steps import visit_steps
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, add_service_visit, clinic_on

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

from web.page_checks import axe_violations  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def visit_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("service-steps")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        yield served


def _signed_in(browser: Browser, clinic: Clinic, width: int = 1366) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails["practitioner"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return page


def _step(page: Page, number: int) -> Locator:
    return page.locator(f"#visit-step-{number}")


def _seconds(text: str) -> int:
    minutes, seconds = text.strip().split(":")
    return int(minutes) * 60 + int(seconds)


def test_a_practitioner_runs_the_whole_service(browser: Browser, visit_clinic: Clinic) -> None:
    visit = add_service_visit(visit_clinic)
    page = _signed_in(browser, visit_clinic)
    page.goto(f"{visit_clinic.url}/console?appointment_id={visit}")
    checklist = page.get_by_test_id("checklist")
    expect(checklist.get_by_test_id("visit-step")).to_have_count(5)
    announced = page.get_by_test_id("checklist-announce")

    page.get_by_label("Products used in Cleansing").fill("Gentle foaming cleanser")
    page.get_by_role("button", name="Done Cleansing").click()
    expect(_step(page, 1).get_by_test_id("step-status")).to_have_text("Done")
    expect(announced).to_contain_text("Cleansing done")

    page.get_by_role("button", name="Start Massage").click()
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Running")
    expect(page.get_by_role("button", name="Pause Massage")).to_be_focused()
    expect(_step(page, 3).get_by_test_id("step-timer")).to_have_text(re.compile(r"0:0[2-9]"))
    page.get_by_role("button", name="Pause Massage").click()
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Paused")
    paused_at = _seconds(_step(page, 3).get_by_test_id("step-timer").inner_text())
    assert paused_at >= 2
    page.reload()  # the timer is the store's: a reload shows it as it was left
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Paused")
    assert abs(_seconds(_step(page, 3).get_by_test_id("step-timer").inner_text()) - paused_at) <= 1
    page.get_by_role("button", name="Resume Massage").click()
    # typed while the resume is on its way: kept when the step comes back
    page.get_by_label("Products used in Massage").fill("Rosehip oil")
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Running")
    expect(page.get_by_label("Products used in Massage")).to_have_value("Rosehip oil")
    page.get_by_role("button", name="Done Massage").click()
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Done")
    # done by mistake: reopened by keyboard, said, its time kept, and done again
    page.get_by_role("button", name="Reopen Massage").focus()
    page.keyboard.press("Enter")
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Paused")
    expect(announced).to_contain_text("Massage reopened")
    expect(page.get_by_role("button", name="Resume Massage")).to_be_focused()
    page.get_by_role("button", name="Done Massage").click()
    expect(_step(page, 3).get_by_test_id("step-status")).to_have_text("Done")

    # the skin analysis taken at the visit is a new version, dated to it, and back it goes
    page.get_by_role("link", name="Record the skin analysis for this visit").click()
    expect(page.get_by_test_id("skin-at-visit")).to_be_visible()
    page.get_by_label("Skin type").select_option("dry")
    page.get_by_label("Fitzpatrick type").select_option("II")
    page.get_by_label("2 moderate").check()
    page.get_by_role("button", name="Save the analysis").click()
    expect(_step(page, 2)).to_contain_text("Skin analysis version 1 was recorded at this visit")
    page.get_by_role("button", name="Skip Skin analysis").click()  # recorded, not timed
    expect(_step(page, 2).get_by_test_id("step-status")).to_have_text("Skipped")

    # the microcurrent step is the device session: no tick box, its state is the session's
    expect(_step(page, 4).get_by_role("button", name=re.compile("^(Start|Done)"))).to_have_count(0)
    page.get_by_role("button", name="Run prechecks").click()
    start = page.get_by_test_id("start")
    expect(start).to_be_visible(timeout=20_000)
    start.click()
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=60_000)
    expect(_step(page, 4).get_by_test_id("step-status")).to_have_text("Completed")
    expect(_step(page, 4).get_by_role("link", name="Open its record")).to_be_visible()
    assert axe_violations(page) == []  # the live page with the visit's checklist

    # the mask after the session, by keyboard alone
    page.get_by_label("Products used in Mask").fill("Hydrating clay mask")
    page.get_by_role("button", name="Start Mask").focus()
    page.keyboard.press("Enter")
    expect(_step(page, 5).get_by_test_id("step-status")).to_have_text("Running")
    expect(announced).to_contain_text("Mask started")
    page.keyboard.press("Tab")  # from Pause to Done
    expect(page.get_by_role("button", name="Done Mask")).to_be_focused()
    page.keyboard.press("Enter")
    expect(_step(page, 5).get_by_test_id("step-status")).to_have_text("Done")
    expect(announced).to_contain_text("Mask done")

    page.get_by_role("link", name="Open the record").click()
    steps = page.get_by_test_id("service-step")
    expect(steps).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("Gentle foaming cleanser")
    expect(steps.nth(0)).to_contain_text("done")
    expect(steps.nth(0)).to_contain_text("Practitioner")
    expect(steps.nth(1)).to_contain_text("skin analysis version 1")
    expect(steps.nth(2)).to_contain_text("Rosehip oil")
    expect(steps.nth(3)).to_contain_text("completed")
    expect(steps.nth(4)).to_contain_text("Hydrating clay mask")
    massage_taken = steps.nth(2).locator("td").nth(2).inner_text()
    assert _seconds(massage_taken) >= paused_at

    with visit_clinic.store.session() as db:
        rows = visit_steps(db, appointment_id=visit)
        assert [r.status for r in rows] == ["done", "skipped", "done", "pending", "done"]
        assert rows[2].started_at is not None and rows[2].ended_at is not None
        assert rows[2].elapsed_s >= paused_at
        booked = db.get(Appointment, visit)
        assert booked is not None and booked.state == "completed"
        analysis = db.scalar(
            select(SkinAnalysis).where(SkinAnalysis.id == rows[1].skin_analysis_id)
        )
        assert analysis is not None and analysis.assessed_on == booked.on_date


def test_a_refused_step_control_says_why_beside_the_step(
    browser: Browser, visit_clinic: Clinic
) -> None:
    visit = add_service_visit(visit_clinic, hour=15)
    page = _signed_in(browser, visit_clinic, width=390)
    page.goto(f"{visit_clinic.url}/console?appointment_id={visit}")
    page.get_by_label("Products used in Cleansing").fill("x" * 20)
    # another operator finished it a moment ago, in another tab
    other = page.context.new_page()
    other.goto(f"{visit_clinic.url}/console?appointment_id={visit}")
    other.get_by_role("button", name="Done Cleansing").click()
    expect(other.locator("#visit-step-1").get_by_test_id("step-status")).to_have_text("Done")
    page.get_by_role("button", name="Start Cleansing").click()
    refused = _step(page, 1).get_by_test_id("step-refused")
    expect(refused).to_contain_text("Cleansing is done: it cannot be started")
    expect(_step(page, 1).get_by_test_id("step-status")).to_have_text("Done")
    expect(page.get_by_label("Products used in Cleansing")).to_have_value("x" * 20)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
