"""The owner's Mail page: settings kept as typed on a bad value, the password never shown
back, and a test message sent by the embedded server's sender to a real SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from microamp.store.mail import mail_settings
from support.smtp import MailCatcher, free_port
from web.conftest import Clinic, clinic_on, csrf_of

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
        assert stored is not None and stored.password == SECRET and stored.port == catcher.port


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
