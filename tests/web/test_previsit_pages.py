"""Pre-visit forms through the pages: a link emailed through the outbox to a real SMTP server,
filled by the client without an account, kept unscreened, reviewed by a practitioner."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from microamp.store.crud import create_client
from microamp.store.mail import save_mail_settings
from microamp.store.models import IntakeForm
from support.smtp import MailCatcher, clinic_mail_key, free_port
from web.conftest import Clinic, clinic_on, csrf_of

BORN = date(1979, 6, 30)


@pytest.fixture(scope="module")
def catcher() -> Iterator[MailCatcher]:
    server = MailCatcher(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, catcher: MailCatcher) -> Iterator[Clinic]:
    data_dir: Path = tmp_path_factory.mktemp("previsit")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir, mail_send_s=0.2) as clinic:
        with clinic.store.session() as session:
            save_mail_settings(session, host="127.0.0.1", port=catcher.port, tls_mode="none",
                               username="", password=None, from_address="desk@clinic.example",
                               by="owner@test.example", key=clinic_mail_key())  # fmt: skip
            session.commit()
        yield clinic


def _new_client(clinic: Clinic, name: str) -> int:
    with clinic.store.session() as session:
        client = create_client(session, full_name=name, date_of_birth=BORN,
                               email=f"{name.split()[0].lower()}@example.org")  # fmt: skip
        session.commit()
        return client.id


def _link(clinic: Clinic, client_id: int, send: str = "copy") -> str:
    with closing(clinic.browser_client("reception")) as reception:
        token = csrf_of(reception.get(f"/clients/{client_id}").text)
        made = reception.post(f"/clients/{client_id}/previsit",
                              data={"send": send, "csrf_token": token})  # fmt: skip
        assert made.status_code == 303
        page = reception.get(f"/clients/{client_id}").text
    urls = re.findall(r'data-testid="previsit-url"|value="(http[^"]+/previsit/[^"]+)"', page)
    return [u for u in urls if u][0]


def _answers(**changes: str) -> dict[str, str]:
    form = {"date_of_birth": BORN.isoformat(), "typed_signature": "Cara Diaz",
            "typed_instead": "yes"}  # fmt: skip
    for key in ("pregnant", "breastfeeding", "pacemaker_or_implanted_device", "heart_condition",
                "epilepsy_or_seizures", "cancer_treatment", "thrombosis_or_phlebitis",
                "bleeding_disorder_or_heavy_bleeding", "diabetes"):  # fmt: skip
        form[key] = "no"
    form.update(changes)
    return form


def _fill(url: str, form: dict[str, str]) -> httpx.Response:
    with httpx.Client(timeout=30) as phone:
        page = phone.get(url)
        assert page.status_code == 200
        version = re.search(r'name="consent_version" value="([^"]+)"', page.text)
        assert version
        return phone.post(url, data={**form, "consent_version": version.group(1),
                                     "csrf_token": csrf_of(page.text)})  # fmt: skip


def _intake_versions(clinic: Clinic, client_id: int) -> int:
    with clinic.store.session() as session:
        query = (
            select(func.count()).select_from(IntakeForm).where(IntakeForm.client_id == client_id)
        )
        return int(session.scalar(query) or 0)


def test_an_emailed_link_reaches_the_client_and_opens_without_an_account(
    served: Clinic, catcher: MailCatcher
) -> None:
    client_id = _new_client(served, "Dana Ellis")
    url = _link(served, client_id, send="email")
    deadline = time.monotonic() + 15
    while not any(m["To"] == "dana@example.org" for m in catcher.received):
        assert time.monotonic() < deadline, "the invitation never arrived"
        time.sleep(0.1)
    (mail,) = [m for m in catcher.received if m["To"] == "dana@example.org"]
    assert url in mail.get_body(("plain",)).get_content()
    with httpx.Client(timeout=30) as phone:
        page = phone.get(url)
    assert page.status_code == 200 and "Before your visit" in page.text and "Dana" in page.text


def test_what_the_client_sends_waits_unscreened_then_the_review_screens_it(served: Clinic) -> None:
    client_id = _new_client(served, "Cara Diaz")
    url = _link(served, client_id)
    before = _intake_versions(served, client_id)

    sent = _fill(url, _answers(diabetes="yes", photo_consent="yes"))
    assert sent.status_code == 200 and "Thank you" in sent.text
    assert _intake_versions(served, client_id) == before  # never screened before the review
    with httpx.Client(timeout=30) as phone:
        again = phone.get(url)
    assert again.status_code == 404 and "sent already" in again.text

    with closing(served.browser_client("reception")) as reception:
        seen = reception.get(f"/clients/{client_id}").text
        assert "awaiting review" not in seen and "Diabetes" not in seen  # no health data
        assert "filled in" in seen
    with closing(served.browser_client("practitioner")) as practitioner:
        page = practitioner.get(f"/clients/{client_id}").text
        assert "from the client, awaiting review" in page and "Diabetes" in page
        form_id = re.search(r"/previsit-forms/(\d+)/review", page)
        assert form_id
        pdf = practitioner.get(f"/clients/{client_id}/previsit-forms/{form_id.group(1)}.pdf")
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
        reviewed = practitioner.post(f"/clients/{client_id}/previsit-forms/{form_id.group(1)}/review",
                                     data={"csrf_token": csrf_of(page)})  # fmt: skip
        assert reviewed.status_code == 303
        after = practitioner.get(f"/clients/{client_id}").text
    assert _intake_versions(served, client_id) == before + 1
    assert "reviewed" in after and "awaiting review" not in after


def test_a_wrong_answer_keeps_what_was_typed_beside_the_field(served: Clinic) -> None:
    client_id = _new_client(served, "Cara Diaz")
    url = _link(served, client_id)
    sent = _fill(url, _answers(typed_signature="Someone Else", heart_condition="yes"))
    assert sent.status_code == 422
    assert 'id="typed_signature-error"' in sent.text and 'value="Someone Else"' in sent.text
    assert re.search(r'id="heart_condition-yes" required checked', sent.text)
    unsigned = _fill(url, _answers(typed_instead=""))
    assert unsigned.status_code == 422 and 'id="signature-error"' in unsigned.text
    assert _fill(url, _answers()).status_code == 200  # the link still good after the refusals


def test_a_withdrawn_or_altered_link_does_not_open(served: Clinic) -> None:
    client_id = _new_client(served, "Eve Fox")
    url = _link(served, client_id)
    with httpx.Client(timeout=30) as phone:
        assert phone.get(url[:-3] + "xyz").status_code == 404
    with closing(served.browser_client("reception")) as reception:
        page = reception.get(f"/clients/{client_id}").text
        link_id = re.search(r"/previsit/(\d+)/revoke", page)
        assert link_id
        withdrawn = reception.post(f"/clients/{client_id}/previsit/{link_id.group(1)}/revoke",
                                   data={"csrf_token": csrf_of(page)})  # fmt: skip
        assert withdrawn.status_code == 303
    with httpx.Client(timeout=30) as phone:
        refused = phone.get(url)
    assert refused.status_code == 404 and "withdrawn" in refused.text


def test_reception_may_not_review_nor_read_the_signed_form(served: Clinic) -> None:
    client_id = _new_client(served, "Cara Diaz")
    _fill(_link(served, client_id), _answers())
    with closing(served.browser_client("reception")) as reception:
        token = csrf_of(reception.get(f"/clients/{client_id}").text)
        assert reception.get(f"/clients/{client_id}/previsit-forms/1.pdf").status_code == 403
        review = reception.post(f"/clients/{client_id}/previsit-forms/1/review",
                                data={"csrf_token": token})  # fmt: skip
        assert review.status_code == 403
