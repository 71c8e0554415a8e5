"""`microamp run` leases its device in the store: a second real process asking for a device
that a running session holds exits 1 naming that session, with or without a client."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from microamp.store import Store
from microamp.store.base import utc_now
from microamp.store.leases import current
from support.durability import WAIT_LIMIT_S, cleared_client, kill_hard


def _command(database_url: str, device: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "microamp", "run", "home-express", "--device", device,
            "--speed", "1", "--database", database_url, "--json", *extra]  # fmt: skip


def _wait_for_holder(store: Store) -> int:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        with store.session() as db:
            lease = current(db, device="sim://", now=utc_now())
        if lease is not None and lease.session_id is not None:
            return lease.session_id
        time.sleep(0.1)
    raise TimeoutError("the first process never held the device")


def test_a_second_process_on_a_held_device_exits_1_naming_the_session(
    store: Store, database_url: str
) -> None:
    client_id = cleared_client(store)
    env = {k: v for k, v in os.environ.items() if k != "MICROAMP_DATABASE_URL"}
    first = subprocess.Popen(
        _command(database_url, "sim://?load=gel", "--client", str(client_id)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        session_id = _wait_for_holder(store)
        for extra in (("--client", str(client_id)), ()):
            second = subprocess.run(
                _command(database_url, "sim://?load=wet", *extra),
                capture_output=True, text=True, timeout=WAIT_LIMIT_S, env=env,
            )  # fmt: skip
            assert second.returncode == 1, second.stderr
            assert f"in use by session {session_id}" in second.stderr
            assert "Traceback" not in second.stderr
    finally:
        kill_hard(first)
