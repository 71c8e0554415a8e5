"""The clinic in a real browser: Debian's chromium driven by Playwright against a served app.

Screenshots of every page go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web.browsing import CHROMIUM, choose_client, launch_chromium
from web.cluster import served_cluster
from web.conftest import PASSWORD, Clinic, clinic_on

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1180, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(
    scope="module", params=["embedded", pytest.param("cluster", marks=pytest.mark.postgres)]
)
def paced_clinic(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clinic]:
    """Simulated sessions at 12x real time: quick, yet a step lasts long enough to act in it.
    ``embedded``: one worker with its station in one process on SQLite; ``cluster``: the
    clinic layout, `serve --workers 2` on PostgreSQL and a `microamp station` process, so
    the console's every load, stream and control may reach another worker."""
    data_dir = tmp_path_factory.mktemp("web-paced")
    if request.param == "cluster":
        stations = {"Room 1": "sim://?load=gel"}
        with served_cluster(data_dir, workers=2, stations=stations, speed=12.0) as served:
            yield served
        return
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir, speed=12.0) as served:
        yield served


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, clinic: Clinic, role: str) -> None:
    page.goto(clinic.url + "/")
    expect(page).to_have_url(clinic.url + "/signin?next=/")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def test_sign_in_shows_today(page: Page, sqlite_clinic: Clinic) -> None:
    page.goto(sqlite_clinic.url + "/signin")
    shot(page, "01-signin")
    page.get_by_label("Email").fill(sqlite_clinic.emails["owner"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("do not match")
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    sign_in(page, sqlite_clinic, "owner")
    shot(page, "02-dashboard")


def test_add_client_and_a_pacemaker_blocks_the_console(page: Page, sqlite_clinic: Clinic) -> None:
    sign_in(page, sqlite_clinic, "practitioner")
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Date of birth").fill("1970-12-09")
    page.get_by_label("Phone").fill("+1 555 0199")
    shot(page, "03-clients")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    page.get_by_role("link", name="Fill in the intake form").click()
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.get_by_label("Pacemaker, defibrillator or other implanted electronic device: yes").check()
    shot(page, "04-intake")
    page.get_by_role("button", name="Screen and save").click()
    expect(page.get_by_test_id("outcome")).to_have_text("Contraindicated")
    expect(page.get_by_test_id("reasons")).to_contain_text("Pacemaker")
    expect(page.get_by_test_id("gate")).to_contain_text("no current will be delivered")
    shot(page, "05-client-blocked")
    page.goto(sqlite_clinic.url + "/console")
    choose_client(page, "Grace Hopper", search="grace")
    page.get_by_role("button", name="Run prechecks").click()
    expect(page.get_by_test_id("not-ready")).to_be_visible()
    expect(page.get_by_test_id("refusals")).to_contain_text("Pacemaker")
    expect(page.get_by_test_id("start")).to_have_count(0)
    shot(page, "06-console-refused")


def test_cleared_client_gets_a_plan_and_a_recorded_session(
    page: Page, sqlite_clinic: Clinic
) -> None:
    sign_in(page, sqlite_clinic, "practitioner")
    client_id = sqlite_clinic.clients["cleared"]
    page.goto(f"{sqlite_clinic.url}/clients/{client_id}")
    expect(page.get_by_test_id("gate")).to_contain_text("Yes")
    page.get_by_label("Template").select_option("clinic-initial")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_test_id("calendar")).to_be_visible()
    shot(page, "07-client-plan")
    page.get_by_role("link", name="Start a session").first.click()
    page.get_by_label("Protocol").select_option("home-express")
    shot(page, "08-console")
    page.get_by_role("button", name="Run prechecks").click()
    start = page.get_by_test_id("start")
    expect(start).to_be_visible(timeout=20_000)
    shot(page, "09-prechecks")
    start.click()
    expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)
    page.wait_for_timeout(400)
    shot(page, "10-live")
    expect(page.get_by_test_id("status")).to_have_text("completed", timeout=60_000)
    page.get_by_role("link", name="Open the record").click()
    expect(page.get_by_test_id("record-status")).to_have_text("completed")
    expect(page.get_by_test_id("dose")).to_contain_text("neck")
    charge = page.get_by_test_id("total-charge").inner_text()
    assert float(charge.split()[0].replace(",", "")) > 0
    shot(page, "11-record")


def test_the_intensity_control_names_the_limit_that_caps_it(
    page: Page, paced_clinic: Clinic
) -> None:
    sign_in(page, paced_clinic, "practitioner")
    page.goto(f"{paced_clinic.url}/console?client_id={paced_clinic.clients['cleared']}")
    page.get_by_label("Protocol").select_option("eye-area")
    page.locator("#intensity").fill("50")
    page.get_by_label("Your cap (µA)").fill("100")
    page.get_by_role("button", name="Run prechecks").click()
    page.get_by_test_id("start").click(timeout=20_000)
    expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)
    # an eye-area step at half level: 75 µA of the 150 asked, below every limit
    expect(page.locator("#step-count")).to_contain_text("eyes", timeout=20_000)
    expect(page.get_by_test_id("effective-current")).to_have_text("75")
    expect(page.get_by_test_id("cap-reason")).to_be_hidden()
    slider = page.get_by_label("Intensity", exact=True)
    slider.focus()
    page.keyboard.press("End")  # the keyboard moves it: all the way up
    expect(page.get_by_test_id("intensity-value")).to_have_text("100 %")
    reason = page.get_by_test_id("cap-reason")
    expect(reason).to_have_text("Capped at 100 µA by the practitioner's setting.")
    expect(page.get_by_test_id("effective-current")).to_have_text("100")
    expect(page.locator("#step-count")).to_contain_text("eyes")
    shot(page, "10b-live-intensity-capped")
    for _ in range(8):  # back down to 60 %: 90 µA, no limit in the way
        page.get_by_role("button", name="Lower the intensity by 5 %").click()
    expect(page.get_by_test_id("intensity-value")).to_have_text("60 %")
    expect(page.get_by_test_id("effective-current")).to_have_text("90")
    expect(reason).to_be_hidden()
    expect(page.locator("#events")).to_contain_text("intensity 100 %: 100 µA, capped at 100 µA")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("status")).to_have_text("stopped", timeout=20_000)
    expect(slider).to_be_disabled()
    shot(page, "10c-live-intensity-stopped")


def test_the_live_console_starts_pauses_resumes_and_stops_a_session(
    page: Page, paced_clinic: Clinic
) -> None:
    sign_in(page, paced_clinic, "practitioner")
    page.goto(f"{paced_clinic.url}/console?client_id={paced_clinic.clients['cleared']}")
    page.get_by_label("Protocol").select_option("home-express")
    page.get_by_role("button", name="Run prechecks").click()
    page.get_by_test_id("start").click(timeout=20_000)
    status = page.get_by_test_id("status")
    expect(status).to_have_text("running", timeout=20_000)
    pause = page.locator("#pause")
    pause.click()
    expect(status).to_have_text("paused", timeout=10_000)
    expect(pause).to_have_text("Resume")
    expect(page.get_by_test_id("announce-polite")).to_contain_text("Paused", timeout=10_000)
    pause.click()
    expect(status).to_have_text("running", timeout=10_000)
    expect(pause).to_have_text("Pause")
    page.get_by_test_id("stop").click()
    expect(status).to_have_text("stopped", timeout=10_000)
    expect(page.get_by_test_id("announce-urgent")).not_to_contain_text("did not take effect")
    page.get_by_role("link", name="Open the record").click()
    expect(page.get_by_test_id("record-status")).to_have_text("stopped")
    controls = page.get_by_test_id("controls")
    for done in ("paused", "resumed", "stopped"):
        expect(controls).to_contain_text(done)
    expect(controls).to_contain_text("Practitioner (web)")


def test_protocols_and_care_sheets(page: Page, sqlite_clinic: Clinic) -> None:
    sign_in(page, sqlite_clinic, "owner")
    page.get_by_role("link", name="Protocols").click()
    expect(page.locator("svg.wave").first).to_be_visible()
    shot(page, "12-protocols")
    page.locator('a[href="/protocols/pro-lift"]').first.click()
    expect(page.get_by_role("heading", name="Steps")).to_be_visible()
    shot(page, "13-protocol")
    page.goto(sqlite_clinic.url + "/care/post")
    shot(page, "14-care")
    page.goto(sqlite_clinic.url + "/account")
    page.get_by_label("Name of a new token").fill("booking")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("mat_")
    shot(page, "15-account")


def test_reception_cannot_open_health_data(page: Page, sqlite_clinic: Clinic) -> None:
    sign_in(page, sqlite_clinic, "reception")
    expect(page.get_by_role("link", name="Protocols")).to_have_count(0)
    client_id = sqlite_clinic.clients["blocked"]
    page.goto(f"{sqlite_clinic.url}/clients/{client_id}")
    expect(page.get_by_role("heading", name="Contact")).to_be_visible()
    expect(page.get_by_text("Screening")).to_have_count(0)
    expect(page.get_by_text("Pacemaker")).to_have_count(0)
    shot(page, "16-reception-client")
    for path in (f"/clients/{client_id}/intake", "/console", "/records/1", "/protocols"):
        response = page.goto(sqlite_clinic.url + path)
        assert response is not None and response.status == 403, path
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, "17-reception-refused")


def test_tablet_width_keeps_the_console_usable(browser: Browser, sqlite_clinic: Clinic) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 1100})
    try:
        page = context.new_page()
        sign_in(page, sqlite_clinic, "practitioner")
        page.goto(f"{sqlite_clinic.url}/clients/{sqlite_clinic.clients['cleared']}")
        shot(page, "18-tablet-client")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        assert "skip-link" in focused
    finally:
        context.close()


def test_the_console_says_when_dry_skin_holds_the_current_and_shows_no_stale_reading(
    page: Page, paced_clinic: Clinic
) -> None:
    sign_in(page, paced_clinic, "practitioner")
    page.goto(f"{paced_clinic.url}/console?client_id={paced_clinic.clients['cleared']}")
    page.get_by_label("Protocol").select_option("home-express")
    page.get_by_label("Device").select_option("sim://?load=gel&rp_ohm=80000")
    page.get_by_role("button", name="Run prechecks").click()
    page.get_by_test_id("start").click(timeout=20_000)
    expect(page.get_by_test_id("status")).to_have_text("running", timeout=20_000)
    holding = page.get_by_test_id("holding")
    expect(holding).to_contain_text("Dry skin: holding", timeout=20_000)
    expect(holding).to_contain_text("µA of 300 µA")
    delivered = page.get_by_test_id("delivered").inner_text()
    assert delivered == "no reading" or float(delivered.replace(",", "")) >= 0
    shot(page, "10d-live-dry-skin")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("status")).to_have_text("stopped", timeout=20_000)
    expect(page.get_by_test_id("delivered")).to_have_text("no reading", timeout=5_000)
    expect(holding).to_be_hidden()
    page.get_by_role("link", name="Open the record").click()
    expect(page.get_by_test_id("controls")).to_contain_text("Practitioner (web)")
    shot(page, "11b-record-controls")
