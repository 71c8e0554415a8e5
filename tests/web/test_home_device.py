"""Device mode on the home app, over HTTP, with a station on the simulator in the process: the
clinic's gate blocks her with its reason, her session runs through the station under the home
profile with her as its operator (a `home` user, for her own record only), and Stop ends the
output and the record says stopped."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from microamp.clinic.intake import BOOLEAN_KEYS
from microamp.errors import InvalidValue
from microamp.protocols.home_routines import HOME_AMPLITUDE_UA, home_offer
from microamp.safety.limits import get_profile
from microamp.station import StoreSessions
from microamp.station.live import StartRequest
from microamp.store.base import utc_now
from microamp.store.crud import create_client
from microamp.store.daily_time import client_day
from microamp.store.home import home_account, home_operator
from microamp.store.models import User
from microamp.store.session_models import SessionEvent, TreatmentSession
from web.home_served import HOME_PASSWORD, MONDAY, Home, home_on

NAME = "Ines Duarte"
MUSCLE = "procerus"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path, device=True) as served:
        yield served


def _csrf(html: str) -> str:
    marker = 'data-csrf="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def phone_signed_up(client: httpx.Client) -> str:
    """Her first run on the phone (name, birth date, password); the page's CSRF token."""
    token = _csrf(client.get("/welcome").text)
    client.post("/welcome", data={
        "csrf_token": token, "display_name": NAME, "date_of_birth": "1979-02-03",
        "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
    })  # fmt: skip
    return token


@pytest.fixture
def phone(home: Home) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=home.url, timeout=30) as client:
        yield client, phone_signed_up(client)


def _answer(client: httpx.Client, token: str, **yes: str) -> None:
    form: dict[str, Any] = {"csrf_token": token, "typed_signature": NAME}
    form |= dict.fromkeys(BOOLEAN_KEYS, "no") | yes
    assert client.post("/health", data=form).status_code == 303


def _records(home: Home) -> list[TreatmentSession]:
    with home.store.transaction() as db:
        rows = list(db.scalars(select(TreatmentSession)))
        db.expunge_all()
        return rows


def _until_done(client: httpx.Client, live_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    state: dict[str, Any] = client.get(f"/api/device/{live_id}").json()
    while not state["done"] and time.monotonic() < deadline:
        time.sleep(0.1)
        state = client.get(f"/api/device/{live_id}").json()
    return state


def _started(client: httpx.Client, token: str) -> dict[str, Any]:
    started = client.post("/device/home-express/start", data={"csrf_token": token})
    assert started.status_code == 303
    return _until_done(client, started.headers["location"].rsplit("/", 1)[1])


def _charge(home: Home, record_id: int) -> float:
    with home.store.transaction() as db:
        events = db.scalars(select(SessionEvent).where(SessionEvent.session_id == record_id))
        (ended,) = [e for e in events if e.kind == "ended"]
        return float(ended.data["delivered_charge_uc"])


def test_before_her_health_answers_device_mode_is_blocked_with_the_reason_and_nothing_runs(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    page = client.get("/device/home-express").text
    assert "Do not use a device yet" in page and "no consent" in page.lower()
    assert 'id="device-start"' not in page
    assert 'id="stop"' in page
    # the station itself refuses, whatever the page offers: the runner's gate, no current
    state = _started(client, token)
    assert state["status"] == "refused" and "screening" in state["reason"].lower()
    (record,) = _records(home)
    assert record.status == "refused"
    assert _charge(home, record.id) == 0


def test_a_contraindication_blocks_device_mode_naming_it(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token, pacemaker_or_implanted_device="yes")
    page = client.get("/device/home-express").text
    assert "pacemaker" in page.lower() and 'id="device-start"' not in page
    state = _started(client, token)
    assert state["status"] == "refused" and "pacemaker" in state["reason"].lower()
    assert [r.status for r in _records(home)] == ["refused"]


def test_she_operates_her_session_and_stop_ends_output_and_the_record_says_stopped(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    assert "On the device: " in client.get("/").text
    started = client.post("/device/home-express/start", data={"csrf_token": token})
    assert started.status_code == 303
    live_id = started.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/device/live/{live_id}").text
    assert 'id="stop"' in page and 'role="status"' in page
    deadline = time.monotonic() + 10
    running = client.get(f"/api/device/{live_id}").json()
    while running["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        running = client.get(f"/api/device/{live_id}").json()
    assert running["done"] is False and running["status"] == "running" and running["step"]

    stopped = client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
    assert stopped.status_code == 303
    state = _until_done(client, live_id)
    assert state["done"] and state["status"] == "stopped"
    (record,) = _records(home)
    assert record.status == "stopped"
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        operator = db.get(User, record.practitioner_id)
        assert operator is not None and operator.role == "home"
        assert operator.id == account.operator_id and record.client_id == account.client_id
    # a Stop after the end changes nothing, and the page says it is over
    assert (
        client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token}).status_code == 303
    )
    assert "Stopped: no output" in client.get(f"/device/live/{live_id}").text


def test_her_operator_may_run_no_other_record(home: Home, phone: tuple[httpx.Client, str]) -> None:
    client, token = phone
    _answer(client, token)
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        operator_id = home_operator(db, account).id
        other = create_client(db, full_name="Someone Else", date_of_birth=MONDAY.replace(year=1980),
                              today=MONDAY).id  # fmt: skip
    sessions = StoreSessions(home.store)
    request = StartRequest(other, "Someone Else", "home-express", "sim://?load=gel", 1.0,
                           operator_id)  # fmt: skip
    with pytest.raises(InvalidValue, match="her own record only"):
        sessions.start(request, on=MONDAY)
    assert _records(home) == []


def test_another_phone_cannot_read_or_stop_her_session(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    live_id = (
        client.post("/device/home-express/start", data={"csrf_token": token})
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    try:
        with httpx.Client(base_url=home.url, timeout=30) as stranger:
            assert stranger.get(f"/api/device/{live_id}").status_code in (303, 401, 403)
            assert client.get("/api/device/not-a-session").status_code == 404
    finally:
        client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})


def test_without_a_device_the_page_says_how_to_start_one(tmp_path: Path) -> None:
    with home_on(tmp_path) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        token = _csrf(client.get("/welcome").text)
        client.post("/welcome", data={
            "csrf_token": token, "display_name": NAME, "date_of_birth": "1979-02-03",
            "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
        })  # fmt: skip
        _answer(client, token)
        page = client.get("/device/home-express").text
        assert 'data-testid="no-device"' in page and "microamp home --device" in page
        assert "On the device: " not in client.get("/").text
        refused = client.post("/device/home-express/start", data={"csrf_token": token})
        assert refused.status_code == 422


def _guide_data(client: httpx.Client, name: str) -> dict[str, Any]:
    page = client.get(f"/guide/{name}").text
    marker = '<script type="application/json" id="routine-data">'
    start = page.index(marker) + len(marker)
    data: dict[str, Any] = json.loads(page[start : page.index("</script>", start)])
    return data


def _build(client: httpx.Client, token: str) -> str:
    """Her routine: platysma (neck), procerus (brows), masseter (jawline), 5 s holds."""
    built = client.post("/build", data={
        "csrf_token": token, "title": "My quick", "cue_interval_s": "5",
        "muscle-0": "platysma", "reps-0": "1", "seconds-0": "5",
        "muscle-1": MUSCLE, "reps-1": "2", "seconds-1": "5",
        "muscle-2": "masseter", "reps-2": "1", "seconds-2": "5",
    })  # fmt: skip
    assert built.status_code == 303, built.text
    return built.headers["location"].rsplit("/", 1)[1]


def _settings(client: httpx.Client, token: str, skip: list[str], **levels: str) -> None:
    form: dict[str, Any] = {"csrf_token": token, "skip": skip}
    form |= {f"level-{zone}": level for zone, level in levels.items()}
    assert client.post("/settings", data=form).status_code == 303


def _live_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _until(client: httpx.Client, live_id: str, ready: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    state: dict[str, Any] = client.get(f"/api/device/{live_id}").json()
    while not ready(state) and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(f"/api/device/{live_id}").json()
    assert ready(state), state
    return state


def test_her_built_routine_runs_on_the_device_without_her_skipped_zone_at_her_levels(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    name = _build(client, token)
    _settings(client, token, ["jawline"], brows="0.5")
    guided = _guide_data(client, name)
    assert [s["zone"] for s in guided["steps"]] == ["neck", "brows"]
    page = client.get(f"/device/{name}").text
    assert 'id="device-start"' in page and "Left out as you chose: jawline" in page
    assert "(level 50%)" in page

    live_id = _live_id(client.post(f"/device/{name}/start", data={"csrf_token": token}))
    running = _until(client, live_id, lambda s: s["status"] == "running")
    assert running["steps_total"] == len(guided["steps"]) == 2
    stopped = client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
    assert stopped.status_code == 303
    _until(client, live_id, lambda s: s["done"])

    (record,) = _records(home)
    # the routine she saw in guide mode is the one the station ran, and the record says so
    assert record.protocol_name == name and record.protocol_hash == guided["hash"]
    assert record.personalisation["routine"] == name
    assert record.personalisation["source"] == "mine"
    assert record.personalisation["skipped"] == ["jawline"]
    assert record.personalisation["skipped_steps"] == ["Masseter"]
    assert record.personalisation["skipped_positions"] == [2]  # the third step as she built it
    assert record.personalisation["zone_levels"] == {"brows": 0.5}
    with home.store.session() as db:
        events = list(db.scalars(select(SessionEvent).where(SessionEvent.session_id == record.id)))
    zones = {e.data.get("zone") for e in events if e.kind == "step_started"}
    assert "jawline" not in zones and "neck" in zones
    # the hash covers each step's intensity: the brows at half of what the builder gave them
    full = home_offer(get_profile("home"))["zone_peak_ua"]["brows"] / HOME_AMPLITUDE_UA
    (brows,) = [s for s in guided["steps"] if s["zone"] == "brows"]
    assert brows["intensity"] == math.floor(full * 0.5 * 1e4) / 1e4


def test_skipping_a_zone_leaves_it_out_of_a_library_routine_on_the_device(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    _settings(client, token, ["neck", "forehead"])
    guided = _guide_data(client, "home-express")
    live_id = _live_id(client.post("/device/home-express/start", data={"csrf_token": token}))
    running = _until(client, live_id, lambda s: s["status"] == "running")
    assert running["steps_total"] == len(guided["steps"])
    client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
    _until(client, live_id, lambda s: s["done"])
    (record,) = _records(home)
    assert record.protocol_hash == guided["hash"]
    assert record.personalisation["source"] == "library"
    assert record.personalisation["skipped"] == ["forehead", "neck"]
    assert set(record.personalisation["skipped_steps"]) == {
        "Above the collarbone (supraclavicular nodes)", "Platysma",
        "Frontalis (occipitofrontalis, frontal belly)",
    }  # fmt: skip


def test_she_lowers_the_level_during_the_run_through_the_level_control(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    live_id = _live_id(client.post("/device/home-express/start", data={"csrf_token": token}))
    _until(client, live_id, lambda s: s["status"] == "running")
    try:
        lowered = client.post(f"/device/live/{live_id}/level",
                              data={"csrf_token": token, "level": "0.7"})  # fmt: skip
        assert lowered.status_code == 303
        assert _until(client, live_id, lambda s: s["level"] == 0.7)["done"] is False
        page = client.get(f"/device/live/{live_id}").text
        assert 'id="device-level">70<' in page
        # no level above her own, none at nothing
        for bad in ("1.5", "0", "strong"):
            refused = client.post(f"/device/live/{live_id}/level",
                                  data={"csrf_token": token, "level": bad})  # fmt: skip
            assert refused.status_code == 422 and "level" in refused.text
    finally:
        client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
    _until(client, live_id, lambda s: s["done"])
    (record,) = _records(home)
    with home.store.session() as db:
        changes = list(db.scalars(select(SessionEvent).where(
            SessionEvent.session_id == record.id, SessionEvent.kind == "intensity_changed")))  # fmt: skip
    assert [c.data["level"] for c in changes] == [0.7]
    assert changes[0].data["operator"]["user_id"] == record.practitioner_id


def test_device_mode_counts_her_guided_minutes_and_refuses_past_the_day(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    with home.store.session() as db:
        home.days.today = client_day(db, now=utc_now())  # the records' own day
    logged = client.post("/api/sessions", headers={"X-CSRF-Token": token}, json={
        "uuid": "guided-day-0001", "protocol": "home-express", "hash": "",
        "on_date": home.days.today.isoformat(), "seconds_done": 18 * 60, "steps_done": [],
        "status": "completed", "cues": 10,
    })  # fmt: skip
    assert logged.status_code == 201, logged.text
    page = client.get("/device/home-express").text
    assert 'id="refusal"' in page and "18.0 of today&#39;s 20 min are used" in page
    assert 'id="device-start"' not in page
    # the station refuses the start itself, whatever the page offered
    refused = client.post("/device/home-express/start", data={"csrf_token": token})
    assert refused.status_code == 422 and "routine" in refused.text
    assert _records(home) == []


def _run_steps(page: str) -> list[str]:
    start = page.index('id="device-steps-run"')
    listed = page[start : page.index("</ol>", start)]
    return [item.split("</li>")[0] for item in listed.split("<li>")[1:]]


def test_the_live_page_lists_the_steps_that_run_after_she_edits_the_routine(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    _answer(client, token)
    name = _build(client, token)
    live_id = _live_id(client.post(f"/device/{name}/start", data={"csrf_token": token}))
    _until(client, live_id, lambda s: s["status"] == "running")
    ran = _run_steps(client.get(f"/device/live/{live_id}").text)
    assert ran == ["Platysma", "Procerus (midline)", "Masseter"]
    # the same name again replaces her routine: one step, the jaw only
    rebuilt = client.post("/build", data={
        "csrf_token": token, "title": "My quick", "cue_interval_s": "5",
        "muscle-0": "masseter", "reps-0": "1", "seconds-0": "5",
    })  # fmt: skip
    assert rebuilt.headers["location"].endswith(f"/{name}")
    assert len(_guide_data(client, name)["steps"]) == 1
    assert _run_steps(client.get(f"/device/live/{live_id}").text) == ran
    client.post(f"/device/live/{live_id}/stop", data={"csrf_token": token})
    _until(client, live_id, lambda s: s["done"])
