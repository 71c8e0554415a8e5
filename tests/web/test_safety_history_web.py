"""The API and the pages keep dates in the past and a contraindication on the client until a
practitioner or owner lifts it; "Screen again" starts from the previous answers."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import httpx

from microamp.clinic.intake import nothing_to_report
from microamp.store import Store, StoreSettings, open_store
from microamp.web import WebSettings
from microamp.web.demo import seed_demo
from web.conftest import Clinic, csrf_of

BORN = date(1975, 1, 22)


def _new_client(api: httpx.Client, name: str) -> int:
    created = api.post("/api/v1/clients", json={"full_name": name, "date_of_birth": "1975-01-22"})
    assert created.status_code == 201, created.text
    client_id: int = created.json()["id"]
    return client_id


def _consent(clinic: Clinic, client_id: int, name: str) -> None:
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}").text)
        signed = browser.post(f"/clients/{client_id}/consent",
                              data={"typed_signature": name, "csrf_token": token})  # fmt: skip
        assert signed.status_code == 303


def _screen(
    api: httpx.Client, client_id: int, on: date | None = None, **changes: object
) -> httpx.Response:
    body: dict[str, object] = {"answers": nothing_to_report(BORN, **changes)}
    if on is not None:
        body["on"] = on.isoformat()
    return api.post(f"/api/v1/clients/{client_id}/screening", json=body)


def test_a_screening_dated_tomorrow_is_422_naming_on(clinic: Clinic) -> None:
    with clinic.api("practitioner") as api:
        client_id = _new_client(api, "Tess Ahead")
        response = _screen(api, client_id, on=date.today() + timedelta(days=1))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "on"]
        assert api.get(f"/api/v1/clients/{client_id}/screening").status_code == 404


def test_a_future_dated_screening_does_not_rule_over_a_later_pregnancy(clinic: Clinic) -> None:
    with clinic.api("practitioner") as api:
        client_id = _new_client(api, "Uma Later")
        _consent(clinic, client_id, "Uma Later")
        _screen(api, client_id, on=date(2030, 1, 1))
        assert _screen(api, client_id, pregnant=True).status_code == 201
        gate = api.get(f"/api/v1/clients/{client_id}/gate").json()
    assert not gate["allowed"]
    assert "pregnancy" in [r["rule_id"] for r in gate["refusals"]]


def test_a_clean_rescreen_keeps_the_pacemaker_until_a_practitioner_lifts_it(
    clinic: Clinic,
) -> None:
    with clinic.api("practitioner") as api:
        client_id = _new_client(api, "Vera Paced")
    _consent(clinic, client_id, "Vera Paced")
    lift = {"rule_id": "implanted_device", "reason": "Explanted; cardiology letter on file"}
    with clinic.api("practitioner") as api:
        _screen(api, client_id, pacemaker_or_implanted_device=True)
        assert _screen(api, client_id).json()["outcome"] == "cleared"
        gate = api.get(f"/api/v1/clients/{client_id}/gate").json()
        assert [r["rule_id"] for r in gate["refusals"]] == ["implanted_device"]
        history = api.get(f"/api/v1/clients/{client_id}/history").json()
        assert history["screenings"][0]["changes"] == [
            {"question": "pacemaker_or_implanted_device", "was": True, "now": False}
        ]
        assert [f["lifted"] for f in history["flags"]] == [False]
    with clinic.api("reception") as api:
        assert api.post(f"/api/v1/clients/{client_id}/flags/lift", json=lift).status_code == 403
        assert api.get(f"/api/v1/clients/{client_id}/history").status_code == 403
    with clinic.api("practitioner") as api:
        wrong = api.post(f"/api/v1/clients/{client_id}/flags/lift",
                         json={"rule_id": "pregnancy", "reason": "no"})  # fmt: skip
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "rule"]
        lifted = api.post(f"/api/v1/clients/{client_id}/flags/lift", json=lift)
        assert lifted.status_code == 200, lifted.text
        assert lifted.json()[0]["lifted_by"] == clinic.emails["practitioner"]
        assert api.get(f"/api/v1/clients/{client_id}/gate").json()["allowed"]


def test_screen_again_starts_from_the_previous_answers(clinic: Clinic) -> None:
    blocked = clinic.clients["blocked"]
    with closing(clinic.browser_client("practitioner")) as browser:
        html = browser.get(f"/clients/{blocked}/intake").text
    pacemaker_yes = re.search(
        r'<input[^>]*name="pacemaker_or_implanted_device" value="yes"[^>]*>', html
    )
    assert pacemaker_yes and "checked" in pacemaker_yes.group(0)
    assert 'data-testid="previous"' in html


def test_the_intake_form_refuses_a_future_date_by_its_field_and_keeps_what_was_typed(
    clinic: Clinic,
) -> None:
    client_id = clinic.clients["cleared"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}/intake").text)
        form = {
            k: ("no" if v is False else v) for k, v in nothing_to_report(date(1988, 4, 12)).items()
        }
        form |= {"last_injectables_date": tomorrow, "diabetes": "yes", "csrf_token": token}
        form = {k: v for k, v in form.items() if v is not None and v != []}
        response = browser.post(f"/clients/{client_id}/intake", data=form)
    assert response.status_code == 422
    html = response.text
    assert 'id="last_injectables_date-error"' in html
    field = re.search(r'<input id="last_injectables_date"[^>]*>', html)
    assert field and f'value="{tomorrow}"' in field.group(0)
    assert "last_injectables_date-error" in field.group(0)
    diabetes_yes = re.search(r'<input[^>]*name="diabetes" value="yes"[^>]*>', html)
    assert diabetes_yes and "checked" in diabetes_yes.group(0)


def test_the_client_page_shows_the_flag_and_the_history(clinic: Clinic) -> None:
    with closing(clinic.browser_client("practitioner")) as browser:
        html = browser.get(f"/clients/{clinic.clients['blocked']}").text
    assert 'data-testid="flags"' in html and "implanted_device" in html
    assert "Safety history" in html and "Not lifted" in html
    assert 'action="/clients/' in html and "/flags/lift" in html


def test_the_demo_pacemaker_client_shows_the_contraindication_as_a_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    web = WebSettings(database_url=url, data_dir=tmp_path, session_speed=400.0, secret_key="k" * 40)
    with open_store(url, settings=StoreSettings(data_dir=tmp_path, database_url=None),
                    upgrade=True) as store:  # fmt: skip
        seed_demo(store, web)
        assert _flag_rules(store, "Ben Carter") == ["implanted_device"]


def _flag_rules(store: Store, name: str) -> list[str]:
    from microamp.store import list_clients, unlifted_flags

    with store.session() as session:
        (client,) = list_clients(session, search=name)
        return [flag.rule_id for flag in unlifted_flags(session, client_id=client.id)]


def test_a_clearance_issued_tomorrow_is_refused_by_its_field_keeping_what_was_typed(
    clinic: Clinic,
) -> None:
    client_id = clinic.clients["blocked"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}").text)
        response = browser.post(f"/clients/{client_id}/clearance", data={
            "physician_name": "Dr Ahead", "issued_on": tomorrow, "csrf_token": token,
        })  # fmt: skip
    assert response.status_code == 422
    field = re.search(r'<input id="issued_on"[^>]*>', response.text)
    assert field and f'value="{tomorrow}"' in field.group(0)
    assert 'aria-describedby="issued_on-error"' in field.group(0)
    assert 'value="Dr Ahead"' in response.text


def test_a_progress_entry_taken_tomorrow_is_refused_by_its_field_keeping_the_notes(
    clinic: Clinic,
) -> None:
    client_id = clinic.clients["cleared"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}").text)
        response = browser.post(f"/clients/{client_id}/progress", data={
            "taken_on": tomorrow, "notes": "jawline firmer", "rating_firmness": "7",
            "csrf_token": token,
        })  # fmt: skip
    assert response.status_code == 422
    field = re.search(r'<input id="taken_on"[^>]*>', response.text)
    assert field and 'aria-describedby="taken_on-error"' in field.group(0)
    assert "jawline firmer</textarea>" in response.text
    assert re.search(r'name="rating_firmness"[^>]*value="7"', response.text)


def test_the_client_page_lifts_a_flag_for_a_practitioner_and_never_for_reception(
    clinic: Clinic,
) -> None:
    with clinic.api("practitioner") as api:
        client_id = _new_client(api, "Wren Lifted")
        _screen(api, client_id, epilepsy_or_seizures=True)
    form = {"rule_id": "epilepsy", "reason": "Seizure-free 10 years, neurologist letter"}
    with closing(clinic.browser_client("reception")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}").text)
        refused = browser.post(
            f"/clients/{client_id}/flags/lift", data=form | {"csrf_token": token}
        )
        assert refused.status_code == 403
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/clients/{client_id}").text)
        lifted = browser.post(f"/clients/{client_id}/flags/lift", data=form | {"csrf_token": token})
        assert lifted.status_code == 303
        html = browser.get(f"/clients/{client_id}").text
    assert "Seizure-free 10 years, neurologist letter" in html
    assert 'data-testid="flags"' not in html
