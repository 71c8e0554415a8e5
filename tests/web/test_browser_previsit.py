"""The pre-visit link on a phone (390 px, Playwright's mobile viewport): the client answers
every question, draws her signature with the mouse on the canvas and sends it; reception made
the link, a practitioner reviews it and the answers are screened then, not before."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.store.crud import create_client
from microamp.store.models import IntakeForm
from microamp.store.previsit import PrevisitSubmission
from web.browsing import CHROMIUM, launch_chromium
from web.conftest import PASSWORD, Clinic

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent and scripts/ensure-chromium could not install it",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402

BORN = date(1985, 3, 14)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as launched:
        yield launched


def sign_in(page: Page, clinic: Clinic, role: str) -> None:
    page.goto(clinic.url + "/signin")
    page.get_by_label("Email").fill(clinic.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def _intake_versions(clinic: Clinic, client_id: int) -> int:
    with clinic.store.session() as session:
        query = (
            select(func.count()).select_from(IntakeForm).where(IntakeForm.client_id == client_id)
        )
        return int(session.scalar(query) or 0)


def _draw(page: Page) -> None:
    pad = page.get_by_test_id("signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for step in range(1, 30):
        page.mouse.move(x + w * (0.1 + 0.027 * step), y + h * (0.6 - 0.3 * ((step % 6) / 5)))
    page.mouse.up()


def test_a_client_fills_the_link_on_her_phone_and_a_practitioner_reviews_it(
    browser: Browser, sqlite_clinic: Clinic
) -> None:
    with sqlite_clinic.store.session() as session:
        client_id = create_client(session, full_name="Gina Hart", date_of_birth=BORN,
                                  email="gina@example.org").id  # fmt: skip
        session.commit()
    before = _intake_versions(sqlite_clinic, client_id)

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    clinical = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        reception = desk.new_page()
        sign_in(reception, sqlite_clinic, "reception")
        reception.goto(f"{sqlite_clinic.url}/clients/{client_id}")
        reception.get_by_role("button", name="Make a link to copy").click()
        expect(reception.get_by_test_id("previsit-done")).to_be_visible()
        url = reception.get_by_label("Link for Gina Hart").input_value()

        client = phone.new_page()
        client.goto(url)
        expect(client.get_by_role("heading", name="Before your visit")).to_be_visible()
        client.get_by_label("Date of birth").fill(BORN.isoformat())
        for key in BOOLEAN_KEYS:
            client.locator(f"#{key}-no").check()
        client.get_by_label("Your full name").fill("Gina Hart")
        _draw(client)
        expect(client.locator("#signature")).to_have_value(re.compile(r"^data:image/png;base64,"))
        client.get_by_label("I agree that progress photographs may be taken").check()
        assert client.evaluate("document.documentElement.scrollWidth") <= 390
        client.get_by_role("button", name="Send to the clinic").click()
        expect(client.get_by_role("heading", name="Thank you")).to_be_visible()
        assert _intake_versions(sqlite_clinic, client_id) == before  # not screened yet

        practitioner = clinical.new_page()
        sign_in(practitioner, sqlite_clinic, "practitioner")
        practitioner.goto(f"{sqlite_clinic.url}/clients/{client_id}")
        awaiting = practitioner.get_by_text("from the client, awaiting review")
        expect(awaiting).to_be_visible()
        practitioner.get_by_role(
            "button", name="Reviewed with the client: screen these answers"
        ).click()
        expect(practitioner.get_by_test_id("previsit-done")).to_contain_text("screened")
        expect(practitioner.get_by_text("from the client, awaiting review")).to_have_count(0)
    finally:
        for context in (desk, phone, clinical):
            context.close()

    assert _intake_versions(sqlite_clinic, client_id) == before + 1
    with sqlite_clinic.store.session() as session:
        submission = session.scalars(
            select(PrevisitSubmission).where(PrevisitSubmission.client_id == client_id)
        ).one()
        assert submission.signature_method == "drawn" and submission.photo_consent
        assert submission.status == "reviewed"
        drawn = Image.open(io.BytesIO(submission.drawn_signature or b"")).convert("RGBA")
    inked = sum(drawn.getchannel("A").histogram()[1:])  # pixels the strokes reached
    assert inked > 200, "the drawn strokes did not reach the stored signature"
