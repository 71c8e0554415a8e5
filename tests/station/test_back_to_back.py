"""Sessions back to back on one station: the device's charge account is the one its last session
left (the per-device window still holds across the change of session), starts afresh only
after `MIN_REST_S` without output (the session rule), and a session under other charge limits
waits for that rest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from microamp.clinic.intake import nothing_to_report
from microamp.clock import SimulatedClock
from microamp.errors import InvalidValue
from microamp.safety.charge import MIN_REST_S
from microamp.station import LiveSessions, StartRequest
from microamp.station.live import LiveSession
from microamp.store import Store, StoreSettings, open_store
from microamp.store.crud import create_client, record_consent, record_intake
from station.test_station_loop import cleared_client

DEVICE = "sim://?load=gel"


class Wall:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def blocked_client(store: Store) -> int:
    """A client the gate refuses (a pacemaker): her session opens the device and ends at the
    prechecks, before any output, so the account is seen as the session found it."""
    born = date(1961, 9, 3)
    with store.transaction() as db:
        client = create_client(db, full_name="Ben Carter", date_of_birth=born)
        record_intake(db, client_id=client.id, on=date.today(), today=date.today(),
                      answers=nothing_to_report(born, pacemaker_or_implanted_device=True))  # fmt: skip
        record_consent(db, client_id=client.id, typed_signature="Ben Carter")
        return client.id


def run(sessions: LiveSessions, client_id: int, practitioner_id: int, protocol: str) -> LiveSession:
    request = StartRequest(client_id, "C", protocol, DEVICE, 1.0, practitioner_id)
    live = sessions.start(request, on=date.today(), clock=SimulatedClock())
    assert live.wait(300), "the session did not end"
    return live


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Store:
    return open_store(database_url, settings=StoreSettings(data_dir=tmp_path), upgrade=True)


def test_back_to_back_sessions_share_the_device_account_until_a_rest_starts_it_afresh(
    store: Store,
) -> None:
    wall = Wall()
    sessions = LiveSessions(store=store, monotonic=wall)
    try:
        cleared, practitioner = cleared_client(store)
        blocked = blocked_client(store)
        first = run(sessions, cleared, practitioner, "home-express")
        account = first.device.charge_account
        assert account is not None and str(first.runner.status) == "completed"
        left = (account.net_uc, account.window_span_uc())
        assert left[1] != (0.0, 0.0)  # charge flowed in the last window
        wall.now += 1.0  # the next client a second later
        second = run(sessions, blocked, practitioner, "home-express")
        assert second.device is not first.device
        assert second.device.charge_account is account  # the window holds over the change
        assert (account.net_uc, account.window_span_uc()) == left
        wall.now += MIN_REST_S + 1.0
        third = run(sessions, blocked, practitioner, "home-express")
        assert third.device.charge_account is account
        assert (account.net_uc, account.window_span_uc()) == (0.0, (0.0, 0.0))  # afresh
        wall.now += 1.0
        fourth = run(sessions, cleared, practitioner, "home-express")
        assert str(fourth.runner.status) == "completed"
        assert fourth.device.charge_account is account
    finally:
        sessions.shutdown()
        store.close()


def test_a_session_under_other_charge_limits_waits_for_the_rest(store: Store) -> None:
    wall = Wall()
    sessions = LiveSessions(store=store, monotonic=wall)
    try:
        cleared, practitioner = cleared_client(store)
        run(sessions, cleared, practitioner, "home-express")
        wall.now += 1.0
        request = StartRequest(cleared, "C", "pro-express", DEVICE, 1.0, practitioner)
        with pytest.raises(InvalidValue) as refused:
            sessions.start(request, on=date.today(), clock=SimulatedClock())
        assert refused.value.field == "rest_s"
        wall.now += MIN_REST_S
        later = run(sessions, cleared, practitioner, "pro-express")
        account = later.device.charge_account
        assert account is not None and account.max_imbalance_uc == 2500.0
    finally:
        sessions.shutdown()
        store.close()
