"""The web server killed with SIGKILL in the middle of a session started through the API: the
next process to open the store finds the record `interrupted`, with every event the server had
committed, in order, on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

from clinic.samples import cleared_answers
from microamp.store import (
    Store,
    StoreSettings,
    create_client,
    get_session_record,
    open_store,
    record_consent,
    record_intake,
)
from microamp.store.access import create_api_token
from microamp.store.crud import create_user
from support.durability import WAIT_LIMIT_S, assert_interrupted_with_its_events, kill_hard

DEVICE = "sim://?load=gel&rate_hz=5000"


def _seed(store: Store) -> tuple[int, str]:
    """A cleared client with consent, and an owner's API token."""
    with store.transaction() as db:
        owner = create_user(db, email="owner@test.example", display_name="Owner", role="owner")
        token = create_api_token(db, user_id=owner.id, name="durability")[1]
        client = create_client(db, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
        record_intake(
            db, client_id=client.id, answers=cleared_answers(), on=date.today(), today=date.today()
        )
        record_consent(db, client_id=client.id, typed_signature="Ana Lima")
        return client.id, token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"microamp serve did not answer within {WAIT_LIMIT_S} s")


def _wait_for_steps(store: Store, record_id: int, steps: int) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        with store.session() as db:
            record = get_session_record(db, session_id=record_id)
            started = [e for e in record.events if e.kind == "step_started"]
            if record.status == "running" and len(started) >= steps:
                return
        time.sleep(0.1)
    raise TimeoutError(f"record {record_id} did not reach {steps} steps within {WAIT_LIMIT_S} s")


def test_the_server_killed_mid_session_leaves_an_interrupted_record_with_its_events(
    database_url: str, tmp_path: Path
) -> None:
    settings = StoreSettings(data_dir=tmp_path, database_url=None)
    with open_store(database_url, settings=settings, upgrade=True) as store:
        client_id, token = _seed(store)
        port = _free_port()
        command = [
            sys.executable, "-m", "microamp", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database", database_url, "--data-dir", str(tmp_path), "--device", DEVICE,
            "--session-speed", "20",
        ]  # fmt: skip
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base, server)
            response = httpx.post(
                f"{base}/api/v1/sessions",
                json={"client_id": client_id, "protocol": "home-express"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=WAIT_LIMIT_S,
            )
            assert response.status_code == 201, response.text
            record_id = response.json()["record_id"]
            _wait_for_steps(store, record_id, steps=2)
        finally:
            kill_hard(server)
    # the next process to open the store finds the orphan and closes it
    with open_store(database_url, settings=settings) as reopened, reopened.session() as db:
        record = get_session_record(db, session_id=record_id)
        assert record.client_id == client_id
        assert_interrupted_with_its_events(record, min_steps=2)
