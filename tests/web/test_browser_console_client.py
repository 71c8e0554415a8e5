"""The console's client field in a real browser: the search swaps in its choices as it is typed
and on Enter (which neither runs the prechecks nor leaves the page), the client chosen stays
checked through a new search and a refused precheck, and the precheck posts her alone as its
``client_id``, client 501 by name as readily as the first."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from web.browsing import CHROMIUM, choose_client, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on
from web.test_console_client_search import LAST, add_crowd, add_desk

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, Request, expect  # noqa: E402


@pytest.fixture(scope="module")
def crowded_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("console-client")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        add_desk(served)
        served.clients["last"] = add_crowd(served)
        yield served


@pytest.fixture
def nurse(browser: Browser, crowded_clinic: Clinic) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1180, "height": 900})
    page = context.new_page()
    try:
        page.goto(crowded_clinic.url + "/signin")
        page.get_by_label("Email").fill(crowded_clinic.emails["practitioner"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


def _posted(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.post_data or "", keep_blank_values=True)


def test_client_501_is_searched_for_chosen_and_prechecked(
    nurse: Page, crowded_clinic: Clinic
) -> None:
    last = crowded_clinic.clients["last"]
    nurse.goto(crowded_clinic.url + "/console")
    expect(nurse.get_by_text("Search to choose the client.")).to_be_visible()
    choose_client(nurse, LAST, search="zelda")
    expect(nurse.get_by_text("born 1985-06-15, zelda@mail.example")).to_be_visible()
    with nurse.expect_request(lambda r: r.url.endswith("/console/prechecks")) as sent:
        nurse.get_by_role("button", name="Run prechecks").click()
    expect(nurse.get_by_test_id("start")).to_be_visible(timeout=20_000)
    expect(nurse.get_by_test_id("prechecks")).to_contain_text(f"for {LAST}")
    posted = _posted(sent.value)
    assert posted["client_id"] == [str(last)]  # the radio alone, nothing of the search form
    assert posted["client_q"] == ["zelda"]


def test_enter_in_the_search_only_searches_and_keeps_the_client_chosen(
    nurse: Page, crowded_clinic: Clinic
) -> None:
    dora = crowded_clinic.clients["dora"]
    nurse.goto(f"{crowded_clinic.url}/console?client_id={dora}&protocol=pro-lift")
    expect(nurse.get_by_role("radio", name="Dora Quist")).to_be_checked()
    nurse.get_by_label("Protocol").select_option("eye-area")
    box = nurse.get_by_label("Find the client")
    box.focus()
    with nurse.expect_response(lambda r: "/console/clients?" in r.url):
        nurse.keyboard.type("clara")  # the swap of each pause in typing, or of Enter
        nurse.keyboard.press("Enter")
    expect(nurse.get_by_test_id("client-more")).to_be_visible()
    expect(nurse.get_by_role("radio")).to_have_count(11)
    expect(nurse.get_by_role("radio", name="Dora Quist")).to_be_checked()
    # still the same page: no prechecks, the protocol as changed
    assert nurse.url == f"{crowded_clinic.url}/console?client_id={dora}&protocol=pro-lift"
    expect(nurse.get_by_label("Protocol")).to_have_value("eye-area")
    expect(nurse.locator("#prechecks")).to_contain_text("Run the prechecks to see")
    box.fill("zzz")
    expect(nurse.get_by_test_id("client-none")).to_contain_text("No client found for “zzz”")
    expect(nurse.get_by_role("radio", name="Dora Quist")).to_be_checked()


def test_a_refused_precheck_keeps_the_client_and_the_search_and_the_field_still_searches(
    nurse: Page, crowded_clinic: Clinic
) -> None:
    dora = crowded_clinic.clients["dora"]
    nurse.goto(crowded_clinic.url + "/console")
    choose_client(nurse, "Dora Quist", search="quist")
    nurse.get_by_label("Your cap (µA)").fill("5")
    nurse.locator("#console-form").evaluate("form => { form.noValidate = true; }")
    nurse.get_by_role("button", name="Run prechecks").click()
    expect(nurse.get_by_test_id("error-summary")).to_be_focused()
    expect(nurse.get_by_role("radio", name="Dora Quist")).to_be_checked()
    expect(nurse.get_by_label("Find the client")).to_have_value("quist")
    # the form swapped in searches as the one it replaced
    choose_client(nurse, "Clara Nunes 03", search="nunes 03")
    expect(nurse.get_by_role("radio", name="Dora Quist")).not_to_be_checked()
    nurse.get_by_label("Your cap (µA)").fill("300")
    with nurse.expect_request(lambda r: r.url.endswith("/console/prechecks")) as sent:
        nurse.get_by_role("button", name="Run prechecks").click()
    expect(nurse.get_by_test_id("prechecks")).to_contain_text("for Clara Nunes 03")
    chosen = _posted(sent.value)["client_id"]
    assert len(chosen) == 1 and chosen != [str(dora)]


def test_the_console_without_a_client_asks_for_one_at_the_search(
    nurse: Page, crowded_clinic: Clinic
) -> None:
    nurse.goto(crowded_clinic.url + "/console")
    nurse.get_by_role("button", name="Run prechecks").click()
    summary = nurse.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Client: choose a client").click()
    expect(nurse.get_by_label("Find the client")).to_be_focused()
