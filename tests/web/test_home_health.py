"""Her own health questions and consent on the home app, over HTTP: each answer is a new
version of her intake screened like any other, signed by typing her name (both or neither),
and the clinic's gate decides what guide mode warns of, as it would for any session; her
measured photos chart beside her adherence on Today."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.store.access import AuditEntry
from microamp.store.home import home_account
from microamp.store.models import Consent, IntakeForm, ProgressEntry, SafetyFlag
from web.home_served import HOME_PASSWORD, Home, home_on

NAME = "Ines Duarte"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


def _csrf(html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture
def phone(home: Home) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=home.url, timeout=30) as client:
        token = _csrf(client.get("/welcome").text)
        made = client.post("/welcome", data={
            "csrf_token": token, "display_name": NAME, "date_of_birth": "1979-02-03",
            "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
        })  # fmt: skip
        assert made.status_code == 303 and made.headers["location"] == "/health"
        yield client, token


def _answers(token: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"csrf_token": token, "typed_signature": NAME}
    form |= dict.fromkeys(BOOLEAN_KEYS, "no")
    return form | changes


def _rows(home: Home, model: type[Any]) -> list[Any]:
    with home.store.transaction() as db:
        rows = list(db.scalars(select(model)))
        db.expunge_all()
        return rows


def test_before_any_answer_guide_mode_says_plainly_that_no_device_may_be_used_yet(
    phone: tuple[httpx.Client, str],
) -> None:
    client, _token = phone
    for path in ("/", "/guide/home-express", "/health"):
        html = client.get(path).text
        assert 'id="gate-notice"' in html, path
        assert "Do not use a device yet" in html
    assert "no consent" in client.get("/guide/home-express").text.lower()


def test_clear_answers_signed_lift_the_warning_and_are_one_intake_and_one_consent(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    saved = client.post("/health", data=_answers(token))

    assert saved.status_code == 303 and saved.headers["location"] == "/health?saved=1"
    assert 'id="gate-notice"' not in client.get("/guide/home-express").text
    (form,) = _rows(home, IntakeForm)
    assert form.outcome == "cleared" and form.answers["date_of_birth"] == "1979-02-03"
    (consent,) = _rows(home, Consent)
    assert consent.typed_signature == NAME
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        audited = db.scalars(
            select(AuditEntry).where(AuditEntry.resource == f"client:{account.client_id}/intake")
        ).one()
        assert audited.actor == f"home:{account.id}"
        assert audited.detail["outcome"] == "cleared"


def test_a_contraindication_warns_in_guide_mode_with_the_reason_and_stays_flagged(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    client.post("/health", data=_answers(token, pacemaker_or_implanted_device="yes"))

    guide = client.get("/guide/home-express").text
    assert "Do not use a device yet" in guide
    assert "pacemaker" in guide.lower()
    # answering "no" later is a new version; the flag stays until a recorded decision lifts it
    client.post("/health", data=_answers(token))
    assert len(_rows(home, IntakeForm)) == 2
    assert [f.rule_id for f in _rows(home, SafetyFlag)]
    assert "Do not use a device yet" in client.get("/guide/home-express").text


def test_a_zone_to_avoid_is_named_and_the_routine_still_guides(
    phone: tuple[httpx.Client, str],
) -> None:
    client, token = phone
    client.post("/health", data=_answers(token, metal_in_face_zones=["jawline"]))

    guide = client.get("/guide/home-express")
    assert guide.status_code == 200
    assert "Keep the device away from: jawline" in guide.text


def test_unanswered_questions_and_a_wrong_signature_keep_everything_and_save_nothing(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    form = _answers(token, typed_signature="Someone Else", metal_in_face_zones=["chin"])
    del form["heart_condition"]
    refused = client.post("/health", data=form)

    assert refused.status_code == 422
    html = refused.text
    assert 'href="#heart_condition-yes"' in html
    assert 'href="#typed_signature"' in html
    assert 'value="Someone Else"' in html
    assert re.search(r'value="chin" checked', html)
    assert re.search(r'id="diabetes-no" checked', html)
    assert _rows(home, IntakeForm) == [] and _rows(home, Consent) == []


def test_the_health_form_needs_the_phones_csrf_token(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    assert client.post("/health", data=_answers("not-the-token")).status_code == 403
    assert _rows(home, IntakeForm) == []


def _photo(home: Home, client_id: int, on: date, brow_mm: float) -> None:
    with home.store.transaction() as db:
        db.add(ProgressEntry(
            client_id=client_id, taken_on=on, photo_path=f"p-{on}.jpg", photo_sha256="a" * 64,
            view="front", measurement={"comparable": True, "quality": 0.9,
                                       "measures": {"brow_height_left_mm": brow_mm}},
        ))  # fmt: skip


def test_her_measured_photos_chart_beside_adherence_and_the_read_is_audited(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    assert "No measured photos yet" in client.get("/").text
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        client_id, actor = account.client_id, f"home:{account.id}"
    _photo(home, client_id, date(2030, 1, 6), 20.0)
    _photo(home, client_id, date(2030, 3, 1), 21.5)

    html = client.get("/").text
    results = html[html.index('data-testid="results"') :]
    assert "Brow height, left (mm)" in results and "<svg" in results
    assert html.index('data-testid="adherence"') < html.index('data-testid="results"')
    with home.store.transaction() as db:
        reads = db.scalars(
            select(AuditEntry).where(AuditEntry.resource == f"client:{client_id}/outcomes")
        ).all()
        assert reads and {r.actor for r in reads} == {actor}
