"""The owner's Mail page: settings kept as typed on a bad value, the password never shown
back, and a test message sent by the embedded server's sender to a real SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from microamp.store import open_store
from microamp.store.mail import MailSettings, mail_settings, smtp_password
from microamp.store.signing_key import forget_signing_key
from support.smtp import MailCatcher, free_port
from web.conftest import PASSWORD, Clinic, clinic_on, csrf_of, sign_in

SECRET = "correct horse battery staple"


@pytest.fixture(scope="module")
def catcher() -> Iterator[MailCatcher]:
    server = MailCatcher(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mail_clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("mail")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir, mail_send_s=0.2) as served:
        yield served


def _form(catcher: MailCatcher, **changes: str) -> dict[str, str]:
    form = {"host": "127.0.0.1", "port": str(catcher.port), "tls_mode": "none",
            "username": "", "password": SECRET, "from_address": "desk@clinic.example"}  # fmt: skip
    form.update(changes)
    return form


def test_a_bad_port_keeps_what_was_typed_and_says_so_by_the_field(
    mail_clinic: Clinic, catcher: MailCatcher
) -> None:
    with closing(mail_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/mail").text)
        answer = owner.post("/settings/mail",
                            data={**_form(catcher, port="smtp", host="mail.example.org"),
                                  "csrf_token": token})  # fmt: skip
    assert answer.status_code == 422
    assert 'id="port-error"' in answer.text and "Port: must be a port number" in answer.text
    assert 'value="mail.example.org"' in answer.text and 'value="smtp"' in answer.text
    assert SECRET not in answer.text
    with mail_clinic.store.session() as session:
        assert mail_settings(session) is None


def test_the_password_is_stored_never_shown_and_kept_when_left_empty(
    mail_clinic: Clinic, catcher: MailCatcher
) -> None:
    with closing(mail_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/mail").text)
        saved = owner.post("/settings/mail", data={**_form(catcher), "csrf_token": token})
        assert saved.status_code == 303
        shown = owner.get("/settings/mail").text
        assert SECRET not in shown and "A password is stored" in shown
        again = owner.post("/settings/mail",
                           data={**_form(catcher, password=""), "csrf_token": token})  # fmt: skip
        assert again.status_code == 303
    with mail_clinic.store.session() as session:
        stored = mail_settings(session)
        assert stored is not None and stored.port == catcher.port
        assert SECRET not in stored.password  # sealed at rest
        assert smtp_password(stored, mail_clinic.app.state.mail_key) == SECRET


@pytest.mark.parametrize("role", ["practitioner", "reception"])
def test_only_the_owner_opens_the_mail_page(mail_clinic: Clinic, role: str) -> None:
    with closing(mail_clinic.browser_client(role)) as someone:
        assert someone.get("/settings/mail").status_code == 403


def test_a_test_message_is_sent_by_the_server_and_shows_in_the_log(
    mail_clinic: Clinic, catcher: MailCatcher
) -> None:
    with closing(mail_clinic.browser_client("owner")) as owner:
        token = csrf_of(owner.get("/settings/mail").text)
        owner.post("/settings/mail", data={**_form(catcher), "csrf_token": token})
        bad = owner.post("/settings/mail/test", data={"to": "ana", "csrf_token": token})
        assert bad.status_code == 422 and 'id="to-error"' in bad.text and 'value="ana"' in bad.text
        queued = owner.post("/settings/mail/test",
                            data={"to": "ana@example.org", "csrf_token": token})  # fmt: skip
        assert queued.status_code == 303
        deadline = time.monotonic() + 15
        while not catcher.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [m["To"] for m in catcher.received] == ["ana@example.org"]
        page = owner.get("/settings/mail").text
    assert "0 queued, 1 sent, 0 failed." in page
    assert "127.0.0.1:" in page and "microamp: test message to ana@example.org" in page


def _settings_saved(data_dir: Path, catcher: MailCatcher) -> None:
    """Mail settings saved through the page of a clinic whose secret key is the tests'."""
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as clinic, \
            closing(clinic.browser_client("owner")) as owner:  # fmt: skip
        token = csrf_of(owner.get("/settings/mail").text)
        saved = owner.post("/settings/mail", data={**_form(catcher), "csrf_token": token})
        assert saved.status_code == 303


def _forget_secret_key(data_dir: Path) -> None:
    """What `microamp db forget-secret-key` does before a clinic changes its key."""
    with open_store(f"sqlite:///{data_dir / 'clinic.db'}") as store, \
            store.transaction() as session:  # fmt: skip
        assert forget_signing_key(session)


def test_after_a_change_of_secret_key_the_page_asks_for_the_password_again(
    tmp_path: Path, catcher: MailCatcher
) -> None:
    _settings_saved(tmp_path, catcher)
    _forget_secret_key(tmp_path)
    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, seeded=False,
                   secret_key="n" * 40) as clinic, closing(clinic.browser_client()) as owner:  # fmt: skip
        sign_in(owner, "owner@test.example", PASSWORD)
        page = owner.get("/settings/mail").text
        token = csrf_of(page)
        assert 'data-testid="password-problem"' in page
        assert "re-enter the SMTP password" in page and SECRET not in page
        again = owner.post("/settings/mail", data={**_form(catcher), "csrf_token": token})
        assert again.status_code == 303
        assert 'data-testid="password-problem"' not in owner.get("/settings/mail").text


def test_a_plain_password_an_older_version_stored_is_sealed_when_the_server_starts(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with open_store(url, upgrade=True) as store, store.transaction() as session:
        session.add(MailSettings(id=1, host="127.0.0.1", port=25, tls_mode="none", username="desk",
                                 password=SECRET, from_address="desk@clinic.example"))  # fmt: skip
    with clinic_on(url, tmp_path, seeded=False) as clinic, clinic.store.session() as session:
        stored = mail_settings(session)
        assert stored is not None and SECRET not in stored.password
        assert smtp_password(stored, clinic.app.state.mail_key) == SECRET


def test_the_mail_page_shows_its_times_in_the_clinics_zone_and_names_it(tmp_path: Path) -> None:
    """Kiritimati is UTC+14: 09:00 UTC is 23:00 there, and 11:30 UTC is already the next day."""
    from datetime import UTC, datetime

    from microamp.store.book_setup import save_settings
    from microamp.store.mail import MailAttempt, queue_mail

    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path) as clinic:
        with clinic.store.transaction() as session:
            save_settings(session, time_zone="Pacific/Kiritimati")
            message = queue_mail(session, to="ana@example.org", subject="Zoned", text="Hi.",
                                 kind="test", now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))  # fmt: skip
            session.add(MailAttempt(message_id=message.id, ok=False, server="127.0.0.1:25 (none)",
                                    at=datetime(2026, 12, 2, 11, 30, 15, tzinfo=UTC),
                                    detail="451 try again"))  # fmt: skip
        with closing(clinic.browser_client("owner")) as owner:
            page = owner.get("/settings/mail").text
    assert "<th>Queued (Pacific/Kiritimati)</th>" in page
    assert "<th>When (Pacific/Kiritimati)</th>" in page
    assert "<td>02 Dec 2026 23:00</td>" in page
    assert "<td>03 Dec 2026 01:30:15</td>" in page
    assert "UTC" not in page.split('aria-labelledby="messages-title"')[1]
