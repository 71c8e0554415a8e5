"""First run: the one-time setup link creates the owner and the clinic's settings, once.

Through a real browser (Debian's chromium) and over HTTP against a served app on an empty
SQLite database, with tokens issued as `microamp serve` issues them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from microamp.errors import StoreError
from microamp.store.access import AuditEntry, verify_audit_chain
from microamp.store.base import utc_now
from microamp.store.clinic_setup import get_clinic_settings, issue_setup_token
from microamp.store.models import User
from web.conftest import Clinic, clinic_on, csrf_of

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "owner's long password"
FORM = {
    "clinic_name": "Lima Skin Studio",
    "time_zone": "Europe/Lisbon",
    "display_name": "Ana Lima",
    "email": "ana@lima.example",
    "password": PASSWORD,
    "password_again": PASSWORD,
}


@pytest.fixture
def empty_clinic(tmp_path: Path) -> Iterator[Clinic]:
    """A served clinic on an empty database: nobody can sign in."""
    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, seeded=False) as served:
        yield served


def issue(clinic: Clinic, *, ago_s: float = 0) -> str:
    with clinic.store.transaction() as db:
        return issue_setup_token(db, now=utc_now() - timedelta(seconds=ago_s)).token


def user_count(clinic: Clinic) -> int:
    with clinic.store.session() as db:
        return int(db.scalar(select(func.count()).select_from(User)) or 0)


def post_form(client: httpx.Client, path: str, **changes: str) -> httpx.Response:
    token = csrf_of(client.get("/signin").text)
    return client.post(path, data={**FORM, **changes, "csrf_token": token})


def test_setup_page_without_a_token_is_not_there(empty_clinic: Clinic) -> None:
    issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        assert client.get("/setup").status_code == 404
        assert client.get("/setup/").status_code == 404
        assert client.get("/setup/not-the-token").status_code == 404
        assert post_form(client, "/setup/not-the-token").status_code == 404
    assert user_count(empty_clinic) == 0


def test_claiming_needs_the_forms_csrf_token(empty_clinic: Clinic) -> None:
    token = issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        assert client.post(f"/setup/{token}", data=FORM).status_code == 403
    assert user_count(empty_clinic) == 0


def test_the_link_creates_the_owner_and_the_clinic_settings_once(empty_clinic: Clinic) -> None:
    token = issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        opened = client.get(f"/setup/{token}")
        assert opened.status_code == 200
        assert opened.headers["cache-control"] == "no-store"
        assert opened.headers["referrer-policy"] == "no-referrer"
        assert post_form(client, f"/setup/{token}").status_code == 200
        again = post_form(client, f"/setup/{token}", email="thief@evil.example")
        assert again.status_code == 410
        assert client.get(f"/setup/{token}").status_code == 410
    with empty_clinic.store.session() as db:
        owners = list(db.scalars(select(User)))
        assert [(u.email, u.role) for u in owners] == [("ana@lima.example", "owner")]
        settings = get_clinic_settings(db)
        assert settings is not None
        assert (settings.name, settings.time_zone) == ("Lima Skin Studio", "Europe/Lisbon")
        resources = list(db.scalars(select(AuditEntry.resource).order_by(AuditEntry.seq)))
        assert resources == ["setup-token", "clinic-setup"]
        assert verify_audit_chain(db).intact


def test_an_expired_link_is_gone(empty_clinic: Clinic) -> None:
    token = issue(empty_clinic, ago_s=3601)
    with empty_clinic.browser_client() as client:
        assert client.get(f"/setup/{token}").status_code == 410
        assert post_form(client, f"/setup/{token}").status_code == 410
    assert user_count(empty_clinic) == 0


def test_a_new_link_replaces_the_unused_one(empty_clinic: Clinic) -> None:
    first = issue(empty_clinic)
    second = issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        assert client.get(f"/setup/{first}").status_code == 404
        assert client.get(f"/setup/{second}").status_code == 200


def test_no_link_is_issued_once_the_clinic_has_a_user(empty_clinic: Clinic) -> None:
    token = issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        assert post_form(client, f"/setup/{token}").status_code == 200
    with empty_clinic.store.transaction() as db, pytest.raises(StoreError, match="users"):
        issue_setup_token(db, now=utc_now())


def test_bad_fields_are_all_named_and_nothing_is_created(empty_clinic: Clinic) -> None:
    token = issue(empty_clinic)
    with empty_clinic.browser_client() as client:
        response = post_form(
            client, f"/setup/{token}", clinic_name=" ", time_zone="Mars/Olympus", email="nobody"
        )
        assert response.status_code == 422
        for field in ("clinic_name", "time_zone", "email"):
            assert re.search(f'aria-describedby="[^"]*{field}-error"', response.text), field
            assert f'href="#{field}"' in response.text
        short = post_form(client, f"/setup/{token}", password="short", password_again="short")
        assert short.status_code == 422
        assert "password-hint password-error" in short.text
        # the link still works after a refused form
        assert client.get(f"/setup/{token}").status_code == 200
    assert user_count(empty_clinic) == 0


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")
def test_owner_set_up_in_a_browser_signs_in_and_the_link_is_dead(empty_clinic: Clinic) -> None:
    from playwright.sync_api import expect, sync_playwright

    token = issue(empty_clinic)
    link = f"{empty_clinic.url}/setup/{token}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(link)
            expect(page.get_by_role("heading", name="Set up the clinic")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            labels = {"clinic_name": "Clinic name", "time_zone": "Time zone",
                      "display_name": "Your name", "email": "Your email",
                      "password": "Password", "password_again": "Password again"}  # fmt: skip
            for name, label in labels.items():
                page.get_by_label(label, exact=True).fill(FORM[name])
            page.get_by_label("Password again", exact=True).fill("a different password")
            page.get_by_role("button", name="Create the owner account").click()
            summary = page.get_by_test_id("error-summary")
            expect(summary).to_contain_text("Password again")
            expect(summary).to_be_focused()
            expect(page.get_by_label("Password again", exact=True)).to_have_attribute(
                "aria-invalid", "true"
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_label("Password again", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Create the owner account").click()
            expect(page.get_by_role("heading", name="The clinic is set up")).to_be_visible()
            page.get_by_role("link", name="Sign in").click()
            page.get_by_label("Email").fill(FORM["email"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
            response = page.goto(link)
            assert response is not None and response.status == 410
            expect(
                page.get_by_role("heading", name="This setup link no longer works")
            ).to_be_visible()
        finally:
            browser.close()
