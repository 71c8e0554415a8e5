"""The JSON API's behaviour: 422 names the field, the gate refuses blocked clients with 409
and no current, a session runs and its record holds the dose, reads and writes are audited."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import text

from microamp.clinic.intake import nothing_to_report
from microamp.store.access import verify_audit_chain
from web.conftest import Clinic


def test_openapi_is_served(clinic: Clinic) -> None:
    with clinic.api() as api:
        document = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/clients" in document["paths"]
    assert not any(path.startswith("/clients") for path in document["paths"])


def test_bad_client_is_422_naming_the_field(clinic: Clinic) -> None:
    with clinic.api("reception") as api:
        response = api.post("/api/v1/clients", json={"full_name": "X", "date_of_birth": "soon"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "date_of_birth"]


def test_bad_intake_answer_is_422_naming_the_answer(clinic: Clinic) -> None:
    body = {"answers": nothing_to_report(date(1988, 4, 12), pregnant="maybe")}
    with clinic.api("practitioner") as api:
        response = api.post("/api/v1/screening", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "answers", "pregnant"]


def test_screening_preview_names_the_pacemaker_rule(clinic: Clinic) -> None:
    body = {"answers": nothing_to_report(date(1961, 9, 3), pacemaker_or_implanted_device=True)}
    with clinic.api("practitioner") as api:
        result = api.post("/api/v1/screening", json=body).json()
    assert result["outcome"] == "contraindicated"
    assert [r["rule_id"] for r in result["reasons"]] == ["implanted_device"]


def test_blocked_client_session_is_refused_with_reasons(clinic: Clinic) -> None:
    with clinic.api("practitioner") as api:
        response = api.post(
            "/api/v1/sessions",
            json={"client_id": clinic.clients["blocked"], "protocol": "home-express"},
        )
    assert response.status_code == 409
    assert any("Pacemaker" in reason for reason in response.json()["reasons"])


def test_a_session_runs_and_its_record_holds_the_dose(clinic: Clinic) -> None:
    with clinic.api("practitioner") as api:
        started = api.post(
            "/api/v1/sessions",
            json={"client_id": clinic.clients["cleared"], "protocol": "home-express"},
        )
        assert started.status_code == 201, started.text
        live = started.json()
        deadline = time.monotonic() + 60
        while not api.get(f"/api/v1/sessions/{live['id']}").json()["state"]["done"]:
            assert time.monotonic() < deadline, "the session did not end"
            time.sleep(0.2)
        record = api.get(f"/api/v1/records/{live['record_id']}").json()
    assert record["status"] == "completed"
    assert sum(zone["charge_uc"] for zone in record["dose_by_zone"].values()) > 0


def test_the_runner_refuses_a_blocked_client_with_zero_charge(clinic: Clinic) -> None:
    """Even when a request gets past the pages, the runner's screening hook refuses: the
    station's own sessions, started without the web's gate."""
    from microamp.station import LiveSessions, StartRequest

    live = clinic.app.state.station.sessions
    assert isinstance(live, LiveSessions)
    request = StartRequest(
        clinic.clients["blocked"], "Ben Carter", "home-express", "sim://?load=gel", 1.0, 1
    )
    session = live.start(request, on=date.today())
    assert session.thread is not None
    session.thread.join(30)
    assert session.summary is not None
    assert str(session.summary.status) == "refused"
    assert session.summary.delivered_charge_uc == 0
    with clinic.api("owner") as api:
        record = api.get(f"/api/v1/records/{session.record_id}").json()
    assert record["status"] == "refused"


def test_health_reads_and_writes_are_audited_in_an_intact_chain(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.api("practitioner") as api:
        assert api.get(f"/api/v1/clients/{client_id}/screening").status_code == 200
    with clinic.store.session() as db:
        rows = db.execute(
            text("SELECT action, resource FROM audit_log ORDER BY seq DESC LIMIT 1")
        ).one()
        assert tuple(rows) == ("read", f"client:{client_id}/screening")
        assert verify_audit_chain(db).intact
