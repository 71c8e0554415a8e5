"""One device, one session: simultaneous starts on one device give exactly one session, the
others a 409 naming the device and the session that holds it; a stopped session frees it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from threading import Barrier

import httpx
import pytest
from sqlalchemy import update

from microamp.protocols import LIBRARY_DIR
from microamp.store.base import utc_now
from microamp.store.leases import Lease, acquire, current
from microamp.store.scratch import scratch_schema
from microamp.store.shared_models import DeviceLease
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import Clinic, clinic_on, csrf_of

STARTS = 10


@contextmanager
def slow_clinic(kind: str, tmp_path: Path) -> Iterator[Clinic]:
    """A clinic whose sessions run in real time, so the first is still running when the rest
    arrive."""
    if kind == "sqlite":
        with clinic_on(f"sqlite:///{tmp_path / 'lease.db'}", tmp_path, speed=1.0) as served:
            yield served
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url, clinic_on(url, tmp_path, speed=1.0) as served:
        yield served


def start(api: httpx.Client, clinic: Clinic, device_url: str = "sim://?load=gel") -> httpx.Response:
    body = {"client_id": clinic.clients["cleared"], "protocol": "home-express",
            "device_url": device_url}  # fmt: skip
    return api.post("/api/v1/sessions", json=body)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_ten_simultaneous_starts_on_one_device_give_one_session_and_nine_409s(
    kind: str, tmp_path: Path
) -> None:
    with slow_clinic(kind, tmp_path) as clinic:
        barrier = Barrier(STARTS)

        def starter(_n: int) -> httpx.Response:
            with clinic.api("practitioner") as api:
                barrier.wait()
                return start(api, clinic)

        with ThreadPoolExecutor(STARTS) as pool:
            responses = list(pool.map(starter, range(STARTS)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (STARTS - 1), [r.text for r in responses]
        winner = next(r.json() for r in responses if r.status_code == 201)
        for refused in (r.json() for r in responses if r.status_code == 409):
            assert refused["device"] == "sim://"
            assert "sim://" in refused["detail"]
            # a start refused before the winner opened its record cannot name it yet
            assert refused["session_id"] in (None, winner["record_id"])
        with clinic.api("practitioner") as api:
            # another simulated skin is the same simulator: still busy, and now named
            busy = start(api, clinic, "sim://?load=wet")
            assert busy.status_code == 409
            assert busy.json()["session_id"] == winner["record_id"]
            assert f"session {winner['record_id']}" in busy.json()["detail"]
            stopped = api.post(f"/api/v1/sessions/{winner['id']}/stop").json()
            assert stopped["state"]["done"]
            again = start(api, clinic)
            assert again.status_code == 201, again.text
            api.post(f"/api/v1/sessions/{again.json()['id']}/stop")


@pytest.mark.parametrize("protocol", ["/etc/hostname", "../../etc/hostname", "home-express.toml",
                                      "Home-Express", ""])  # fmt: skip
def test_a_session_names_its_protocol_by_name_never_by_path(
    sqlite_clinic: Clinic, protocol: str
) -> None:
    with sqlite_clinic.api("practitioner") as api:
        response = api.post(
            "/api/v1/sessions",
            json={"client_id": sqlite_clinic.clients["cleared"], "protocol": protocol},
        )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "protocol"]


def test_a_protocol_file_on_the_server_named_by_its_path_is_never_run(
    sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    server_file = tmp_path / "server-side.toml"
    server_file.write_text((LIBRARY_DIR / "home-express.toml").read_text(encoding="utf-8"))
    with sqlite_clinic.api("practitioner") as api:
        response = api.post(
            "/api/v1/sessions",
            json={"client_id": sqlite_clinic.clients["cleared"], "protocol": str(server_file)},
        )
        if response.status_code == 201:
            api.post(f"/api/v1/sessions/{response.json()['id']}/stop")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "protocol"]


def test_a_name_in_neither_the_library_nor_the_store_is_422_naming_protocol(
    sqlite_clinic: Clinic,
) -> None:
    with sqlite_clinic.api("practitioner") as api:
        response = api.post(
            "/api/v1/sessions",
            json={"client_id": sqlite_clinic.clients["cleared"], "protocol": "hostname"},
        )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "protocol"]


def test_the_console_refuses_a_busy_device_on_its_start_form_and_skips_the_contact_check(
    tmp_path: Path,
) -> None:
    with slow_clinic("sqlite", tmp_path) as clinic, clinic.api("practitioner") as api:
        running = start(api, clinic)
        assert running.status_code == 201, running.text
        record_id = running.json()["record_id"]
        browser = clinic.browser_client("practitioner")
        try:
            token = csrf_of(browser.get("/console").text)
            choice = {"client_id": str(clinic.clients["cleared"]), "protocol": "home-express",
                      "device_url": "sim://?load=gel", "intensity": "100", "csrf_token": token}  # fmt: skip
            checks = browser.post("/console/prechecks", data=choice)
            refused = browser.post("/console/start", data=choice)
        finally:
            browser.close()
            api.post(f"/api/v1/sessions/{running.json()['id']}/stop")
    assert checks.status_code == 200
    assert f"in use by session {record_id}" in checks.text
    assert 'data-testid="not-ready"' in checks.text
    assert refused.status_code == 409
    assert 'id="start-error"' in refused.text and 'role="alert"' in refused.text
    assert f"in use by session {record_id}" in refused.text
    assert 'aria-describedby="start-error"' in refused.text


def test_a_session_whose_lapsed_lease_is_taken_over_stops_and_is_recorded_interrupted(
    tmp_path: Path,
) -> None:
    with slow_clinic("sqlite", tmp_path) as clinic, clinic.api("practitioner") as api:
        running = start(api, clinic)
        assert running.status_code == 201, running.text
        live_id, record_id = running.json()["id"], running.json()["record_id"]
        # the lease lapses (as if its heartbeat had stalled) and another holder takes it
        with clinic.store.transaction() as db:
            db.execute(update(DeviceLease).values(expires_at=utc_now() - timedelta(seconds=1)))
            taken = acquire(db, device="sim://", holder="another-process", now=utc_now())
        assert isinstance(taken, Lease) and taken.took_over == record_id
        deadline = time.monotonic() + 30
        while not api.get(f"/api/v1/sessions/{live_id}").json()["state"]["done"]:
            assert time.monotonic() < deadline, "the session kept running without its lease"
            time.sleep(0.2)
        record = api.get(f"/api/v1/records/{record_id}").json()
        with clinic.store.session() as db:
            holding = current(db, device="sim://", now=utc_now())
    assert record["status"] == "interrupted"
    assert holding is not None and holding.holder == "another-process"
