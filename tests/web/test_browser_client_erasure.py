"""Erasing a client in a real browser, as the owner: the confirmation page, its error when the
name typed is not hers, the page that says it is done, the retention field of the clinic
settings with its error, and a held erasure with no erase button. axe-core finds no WCAG A/AA
violation at 1366, 820 and 390 px, and no page scrolls sideways."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from microamp.store.book_setup import save_settings
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic, clinic_on
from web.test_client_erasure import client_with_history

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from web.page_checks import (  # noqa: E402
    HTMX_ATTRIBUTE,
    WIDER_THAN_THE_VIEWPORT,
    axe_violations,
    nu_checker,
    scroll_width,
)

WIDTHS = ((1366, 768), (820, 1180), (390, 844))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def erasing_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("erasure-browser")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        with served.store.transaction() as db:
            save_settings(db, name="Clinica Luz")
        yield served


@pytest.fixture
def owner(browser: Browser, erasing_clinic: Clinic) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    page = context.new_page()
    page.goto(erasing_clinic.url + "/signin")
    page.get_by_label("Email").fill(erasing_clinic.emails["owner"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    yield page
    context.close()


def _faults_at_every_width(page: Page, shown: list[str]) -> list[str]:
    """axe-core's violations and any sideways scroll at each width, back at the widest after;
    the page's markup is kept in ``shown`` for the Nu HTML checker."""
    shown.append(page.content())
    found: list[str] = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width} px: {v}" for v in axe_violations(page)]
        if scroll_width(page) > width:
            found.append(
                f"{width} px: too wide ({', '.join(page.evaluate(WIDER_THAN_THE_VIEWPORT))})"
            )
    page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
    return found


def _markup_errors(shown: list[str], folder: Path) -> list[str]:
    """The Nu HTML checker's errors on each page of ``shown``, apart from htmx attributes."""
    for index, html in enumerate(shown):
        (folder / f"{index:02d}.html").write_text(html, encoding="utf-8")
    run = subprocess.run(
        [*nu_checker(), "--format", "json", "--exit-zero-always", "--stdout", str(folder)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in json.loads(run.stdout)["messages"]
        if m.get("type") == "error" and not HTMX_ATTRIBUTE.search(m.get("message", ""))
    ]


def test_the_owner_confirms_an_erasure_by_typing_the_name(
    owner: Page, erasing_clinic: Clinic, tmp_path: Path
) -> None:
    shown: list[str] = []
    client_id = client_with_history(erasing_clinic, "Lucía Fernández")
    owner.goto(f"{erasing_clinic.url}/clients/{client_id}")
    owner.get_by_role("link", name="Erase this client").click()
    expect(owner.get_by_role("heading", name="Erase Lucía Fernández")).to_be_visible()
    expect(owner.get_by_test_id("what-goes")).to_contain_text("1 intake forms")
    expect(owner.get_by_test_id("what-stays")).to_contain_text("1 treatment records")
    assert _faults_at_every_width(owner, shown) == []

    confirm = owner.get_by_label("Type the client's name, Lucía Fernández, to confirm")
    confirm.fill("Lucia")
    owner.get_by_role("button", name="Erase this client").click()
    summary = owner.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Her name: type Lucía Fernández to erase her record")
    expect(summary).to_be_focused()
    expect(confirm).to_have_value("Lucia")
    expect(confirm).to_have_attribute("aria-invalid", "true")
    assert _faults_at_every_width(owner, shown) == []

    confirm.fill("Lucía Fernández")
    owner.get_by_role("button", name="Erase this client").click()
    expect(owner.get_by_role("heading", name="Client erased")).to_be_visible()
    expect(owner.get_by_test_id("erased")).to_contain_text("gone from the client list")
    assert _faults_at_every_width(owner, shown) == []
    owner.goto(f"{erasing_clinic.url}/clients?q=Fern")
    expect(owner.locator(f'a[href="/clients/{client_id}"]')).to_have_count(0)
    assert _markup_errors(shown, tmp_path) == []


def test_the_retention_field_and_a_held_erasure(
    owner: Page, erasing_clinic: Clinic, tmp_path: Path
) -> None:
    shown: list[str] = []
    client_id = client_with_history(erasing_clinic, "Hanna Kowalczyk")
    try:
        owner.goto(f"{erasing_clinic.url}/settings/clinic")
        years = owner.get_by_label("Records retention")
        expect(years).to_have_value("0")
        years.fill("101")
        owner.get_by_role("button", name="Save the clinic").click()
        expect(owner.get_by_test_id("error-summary")).to_contain_text(
            "Records retention: 0-100 years (0: no hold)"
        )
        expect(years).to_have_value("101")
        assert _faults_at_every_width(owner, shown) == []
        years.fill("7")
        owner.get_by_role("button", name="Save the clinic").click()
        expect(owner.get_by_test_id("clinic-done")).to_be_visible()
        expect(years).to_have_value("7")

        owner.goto(f"{erasing_clinic.url}/clients/{client_id}/erase")
        hold = owner.get_by_test_id("retention-hold")
        expect(hold).to_contain_text("records are kept 7 years after the last treatment")
        expect(hold).to_contain_text("The hold lifts on")
        expect(owner.get_by_role("button", name="Erase this client")).to_have_count(0)
        assert _faults_at_every_width(owner, shown) == []
        assert _markup_errors(shown, tmp_path) == []
    finally:
        with erasing_clinic.store.transaction() as db:
            save_settings(db, retention_years=0)
