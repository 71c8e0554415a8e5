"""The console and the record tell the truth, through the served app: the zones left out, the
true peak delivered, who did each control, a current held down by the skin said in plain words,
and never a negative or stale current."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import httpx

from microamp.clinic.intake import nothing_to_report
from microamp.store.crud import create_client, record_consent, record_intake
from web.conftest import Clinic

DRYING = "sim://?load=gel&rp_ohm=80000"


def neck_avoided_client(clinic: Clinic) -> int:
    """A client with metal in the neck: screening leaves the neck out."""
    born = date(1985, 2, 3)
    with clinic.store.transaction() as db:
        client = create_client(db, full_name="Cleo Park", date_of_birth=born)
        record_intake(db, client_id=client.id, on=date.today(), today=date.today(),
                      answers=nothing_to_report(born, metal_in_face_zones=["neck"]))  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Cleo Park")
        return client.id


def start(api: httpx.Client, client_id: int, device_url: str, **body: Any) -> dict[str, Any]:
    started = api.post("/api/v1/sessions", json={"client_id": client_id, "device_url": device_url,
                                                 "protocol": "home-express", **body})  # fmt: skip
    assert started.status_code == 201, started.text
    live: dict[str, Any] = started.json()
    return live


def states_until_done(api: httpx.Client, live_id: str) -> list[dict[str, Any]]:
    states: list[dict[str, Any]] = []
    deadline = time.monotonic() + 90
    while not states or not states[-1]["done"]:
        assert time.monotonic() < deadline, "the session did not end"
        states.append(api.get(f"/api/v1/sessions/{live_id}").json()["state"])
        time.sleep(0.05)
    return states


def record_page(clinic: Clinic, role: str, record_id: int) -> str:
    page = clinic.browser_client(role)
    try:
        response = page.get(f"/records/{record_id}")
        assert response.status_code == 200, response.text
        return response.text
    finally:
        page.close()


def test_the_record_page_tells_what_the_session_did(clinic: Clinic) -> None:
    client_id = neck_avoided_client(clinic)
    with clinic.api("practitioner") as api:
        live = start(api, client_id, "sim://?load=gel")
        changed = api.post(f"/api/v1/sessions/{live['id']}/intensity", json={"level": 0.5})
        assert changed.status_code == 200, changed.text
        states = states_until_done(api, live["id"])
    assert all(s["delivered_ua"] is None or s["delivered_ua"] >= 0 for s in states)
    assert states[-1]["delivered_ua"] is None  # ended: no reading, not the last one seen
    html = record_page(clinic, "practitioner", live["record_id"])
    left_out = re.search(r'data-testid="zones-left-out">([^<]*)<', html)
    assert left_out and left_out.group(1) == "neck"
    peak = re.search(r"Peak delivered <strong>([\d,.]+) µA", html)
    assert peak and 140 <= float(peak.group(1)) <= 310
    chart_peak = re.search(r"peak delivered \(max (\d+) µA\)", html)
    assert chart_peak and abs(float(chart_peak.group(1)) - float(peak.group(1))) <= 1
    controls = html[html.index('data-testid="controls"') :]
    assert re.search(r"intensity changed</td><td>50 %.*?Practitioner <span[^>]*>\(api\)", controls)
    assert 'data-testid="record-level">50 %<' in html


def test_the_console_says_when_the_skin_holds_the_current_down(clinic: Clinic) -> None:
    with clinic.api("owner") as api:
        live = start(api, clinic.clients["cleared"], DRYING)
        held: dict[str, Any] | None = None
        deadline = time.monotonic() + 30
        while held is None:
            assert time.monotonic() < deadline, "the console never said the current was held"
            state = api.get(f"/api/v1/sessions/{live['id']}").json()["state"]
            held = state if state["holding"] else None
            time.sleep(0.02)
        stopped = api.post(f"/api/v1/sessions/{live['id']}/stop")
        assert stopped.status_code == 200
        states_until_done(api, live["id"])
    words = re.fullmatch(r"dry skin: holding (\d+) µA of (\d+) µA \((.+) at (\d+) kΩ\)",
                         held["holding"])  # fmt: skip
    assert words, held["holding"]
    assert int(words.group(1)) < 0.9 * int(words.group(2))
    assert int(words.group(2)) == round(held["step"]["amplitude_ua"])
    html = record_page(clinic, "owner", live["record_id"])
    assert re.search(r"stopped</td><td></td><td>Owner <span[^>]*>\(api\)", html)
