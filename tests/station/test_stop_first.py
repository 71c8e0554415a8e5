"""A Stop reaches its runner before the station claims it: a claim held up in the store (a slow
transaction, a lock) never holds up the output's fall to zero."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from microamp.session import Operator
from microamp.station import StartRequest, Station, StoreSessions
from microamp.station import station as station_module
from microamp.store import Store, StoreSettings, open_store
from station.test_station_loop import cleared_client

CLAIM_S = 3.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url, settings=StoreSettings(data_dir=tmp_path), upgrade=True) as s:
        yield s


def test_a_stop_zeroes_output_before_its_slow_claim_is_done(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    station = Station(store, name="Room 1", device_url="sim://?load=gel", speed=1.0)
    station.start()
    try:
        sessions = StoreSessions(store, ring=station.ring)
        client_id, practitioner_id = cleared_client(store)
        request = StartRequest(client_id, "Ana Lima", "home-express", "sim://?load=gel", 1.0,
                               practitioner_id)  # fmt: skip
        remote = sessions.start(request, on=date.today())
        local = station.sessions.get(remote.id)
        assert local is not None
        deadline = time.monotonic() + 60
        while not (str(local.runner.snapshot().status) == "running" and local.device.output_on):
            assert time.monotonic() < deadline, "the session never got under way"
            time.sleep(0.01)
        claim = station_module.take_control

        def slow_claim(*args: Any, **kwargs: Any) -> bool:
            time.sleep(CLAIM_S)  # the claim's transaction waits on the store
            return claim(*args, **kwargs)

        monkeypatch.setattr(station_module, "take_control", slow_claim)
        pressed = time.monotonic()
        press = threading.Thread(target=remote.control, args=("stop", Operator("Dana", None)))
        press.start()
        while local.device.output_on:
            assert time.monotonic() - pressed < 30, "output never reached zero"
            time.sleep(0.002)
        zero_s = time.monotonic() - pressed
        press.join(30)
        assert zero_s < CLAIM_S - 1.0
        assert local.wait(30) and str(local.runner.status) == "stopped"
        stop = [e for e in local.runner.events if e.kind == "ended"][-1].to_dict()
        assert stop["operator"]["name"] == "Dana"
    finally:
        station.stop()
