"""A station in its own process (`python -m microamp station`) and the web app without one:
a session started through the API runs on the station, is watched, paused, levelled and
stopped through the store, each control in the record with its operator; a station killed
mid-session ends its session as ``interrupted`` with its events, and shows offline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from microamp.store.scratch import scratch_schema
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import Clinic, clinic_on, csrf_of

ROOM = "Room 2"


@contextmanager
def clinic_without_station(kind: str, tmp_path: Path) -> Iterator[tuple[Clinic, str]]:
    """A served clinic whose web worker runs no station, and its database URL."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
        with clinic_on(url, tmp_path, speed=4.0, embedded_station=False) as served:
            yield served, url
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with (
        scratch_schema(base, prefix="test") as url,
        clinic_on(url, tmp_path, speed=4.0, embedded_station=False) as served,
    ):
        yield served, url


@contextmanager
def station_process(database_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "station.log").open("wb")
    command = [sys.executable, "-m", "microamp", "station", "--device", "sim://?load=gel",
               "--name", ROOM, "--database", database_url, "--session-speed", "4"]  # fmt: skip
    env = os.environ | {"MICROAMP_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        log.close()


def until(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def room(api: httpx.Client) -> dict[str, Any] | None:
    found = [s for s in api.get("/api/v1/stations").json() if s["name"] == ROOM]
    return found[0] if found else None


def started(clinic: Clinic, api: httpx.Client) -> dict[str, Any]:
    until("the station online", lambda: (room(api) or {}).get("online"))
    body = {"client_id": clinic.clients["cleared"], "protocol": "pro-express", "device": ROOM}
    answer = api.post("/api/v1/sessions", json=body)
    assert answer.status_code == 201, answer.text
    live: dict[str, Any] = answer.json()
    assert live["station"] == ROOM
    return live


def stream_messages(
    page: httpx.Client, live_id: str, until_name: str = "end"
) -> list[tuple[str, Any]]:
    """The messages of the live stream up to the first named ``until_name``, as (name, data)."""
    got: list[tuple[str, Any]] = []
    with page.stream("GET", f"/live/{live_id}/events") as stream:
        assert stream.status_code == 200
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                got.append((name, json.loads(line.removeprefix("data: "))))
                if name == until_name:
                    break
    return got


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_on_a_station_process_is_watched_paused_levelled_and_stopped_by_operators(
    kind: str, tmp_path: Path
) -> None:
    with clinic_without_station(kind, tmp_path) as (clinic, url), station_process(url, tmp_path):
        with clinic.api("practitioner") as api, clinic.api("owner") as owner:
            live = started(clinic, api)
            lid = live["id"]
            until("the first step", lambda: api.get(f"/api/v1/sessions/{lid}").json()["state"]
                  ["status"] == "running", 60)  # fmt: skip
            assert (room(api) or {}).get("busy")
            page = clinic.browser_client("practitioner")
            try:
                messages = stream_messages(page, lid, "state")
                names = {name for name, _data in messages}
                assert {"event", "state"} <= names
                token = csrf_of(page.get(f"/live/{lid}").text)
                paused = page.post(f"/live/{lid}/pause", headers={"X-CSRF-Token": token})
                assert paused.status_code == 204
            finally:
                page.close()
            assert api.get(f"/api/v1/sessions/{lid}").json()["state"]["status"] == "paused"
            assert owner.post(f"/api/v1/sessions/{lid}/resume").status_code == 200
            levelled = owner.post(f"/api/v1/sessions/{lid}/intensity", json={"level": 0.5})
            assert levelled.status_code == 200
            stopped = api.post(f"/api/v1/sessions/{lid}/stop")
            assert stopped.status_code == 200 and stopped.json()["state"]["done"]
            record = api.get(f"/api/v1/records/{live['record_id']}").json()
            until("the station free", lambda: not (room(api) or {}).get("busy"))
    assert record["status"] == "stopped"
    by = [(c["control"], (c["operator"] or {}).get("name"), (c["operator"] or {}).get("via"))
          for c in record["controls"]]  # fmt: skip
    assert ("paused", "Practitioner", "web") in by
    assert ("resumed", "Owner", "api") in by
    assert ("stopped", "Practitioner", "api") in by
    assert any(c == "intensity_changed" and n == "Owner" for c, n, _via in by), by


@pytest.mark.parametrize("kind", KINDS)
def test_a_station_killed_mid_session_leaves_its_record_interrupted_and_shows_offline(
    kind: str, tmp_path: Path
) -> None:
    with clinic_without_station(kind, tmp_path) as (clinic, url), clinic.api("owner") as api:
        with station_process(url, tmp_path) as station:
            live = started(clinic, api)
            lid = live["id"]
            until("the first step", lambda: api.get(f"/api/v1/sessions/{lid}").json()["state"]
                  ["status"] == "running", 60)  # fmt: skip
            written = len(api.get(f"/api/v1/records/{live['record_id']}").json()["events"])
            station.send_signal(signal.SIGKILL)
            station.wait(10)
        # the lease lapses (10 s, at once for a dead process of this host) and the web
        # worker's sweep (every 2 s) interrupts the record; the silent station is offline in 5 s
        record = until("the record interrupted", lambda: (
            r := api.get(f"/api/v1/records/{live['record_id']}").json())["status"] ==
            "interrupted" and r, 30)  # fmt: skip
        state = until("the session ended", lambda: (
            s := api.get(f"/api/v1/sessions/{lid}")).status_code == 200 and s.json()["state"]
            ["done"] and s.json()["state"], 30)  # fmt: skip
        assert until("the station offline", lambda: not (room(api) or {"online": 1})["online"])
        page = clinic.browser_client("owner")
        try:
            assert page.get(f"/live/{lid}").status_code == 200
            ending = stream_messages(page, lid)[-1:]
        finally:
            page.close()
        refused = api.post(f"/api/v1/sessions/{lid}/intensity", json={"level": 0.5})
    assert record["events"][-1]["kind"] == "interrupted"
    assert len(record["events"]) > written >= 1
    assert state["delivered_ua"] is None
    assert ending[0][0] == "end" and "stopped answering" in ending[0][1]["error"]
    assert refused.status_code in (409, 503), refused.text


def test_a_station_for_a_malformed_device_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "microamp", "station", "--device", "nope://x", "--name", ROOM,
         "--database", f"sqlite:///{tmp_path / 'c.db'}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "nope" in done.stdout + done.stderr


def test_a_start_with_no_station_online_is_503_in_words(tmp_path: Path) -> None:
    with clinic_without_station("sqlite", tmp_path) as (clinic, _url), clinic.api("owner") as api:
        body = {"client_id": clinic.clients["cleared"], "protocol": "home-express"}
        answer = api.post("/api/v1/sessions", json=body)
    assert answer.status_code == 503, answer.text
    assert "microamp station" in answer.json()["detail"]


def test_the_consoles_device_checks_run_on_the_station_and_its_device_list_shows_it(
    tmp_path: Path,
) -> None:
    with clinic_without_station("sqlite", tmp_path) as (clinic, url), clinic.api("owner") as api:
        browser = clinic.browser_client("practitioner")
        try:
            offline = browser.get("/console").text
            with station_process(url, tmp_path):
                until("the station online", lambda: (room(api) or {}).get("online"))
                page = browser.get("/console").text
                choice = {"client_id": str(clinic.clients["cleared"]), "protocol": "home-express",
                          "device_url": "sim://?load=gel", "intensity": "100",
                          "csrf_token": csrf_of(page)}  # fmt: skip
                checks = browser.post("/console/prechecks", data=choice)
        finally:
            browser.close()
    assert "no station" in offline
    assert f"{ROOM}, online" in page
    assert checks.status_code == 200
    assert "Skin contact" in checks.text and 'data-testid="not-ready"' not in checks.text
