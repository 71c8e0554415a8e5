"""Back-to-back sessions on one station, as a property: whatever the sequence of sessions, the
gaps between them and the Stops that cut them short, the current the device put out (read at
its output, not from its account) never passes the profile's accumulated-imbalance limit
(counted from the last rest of `MIN_REST_S` without output, the session rule) nor its mean-DC
limit over any interval of up to ``dc_window_s``, across the change of session too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from microamp.clock import Clock, SimulatedClock
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.urls import parse_device_url
from microamp.safety.charge import MIN_REST_S
from microamp.safety.limits import LimitProfile, get_profile
from microamp.station import LiveSessions, StartRequest
from microamp.station import live as live_module
from microamp.store import Store, StoreSettings, open_store
from station.test_back_to_back import Wall
from station.test_station_loop import cleared_client

DEVICE = "sim://?load=gel"
PROTOCOL = "home-express"
HOME = get_profile("home")


class Output:
    """Every sample the station's devices put out, session after session, and the wall gaps."""

    def __init__(self) -> None:
        self.sessions: list[list[np.ndarray]] = []
        self.gaps_s: list[float] = []
        self.stop_after: int | None = None
        self.stop: Callable[[], None] = lambda: None

    def opener(self, rate: list[float]) -> Callable[..., SimDevice]:
        def open_tapped(url: str, *, clock: Clock, profile: LimitProfile) -> SimDevice:
            samples: list[np.ndarray] = []
            self.sessions.append(samples)
            sim = SimSettings.from_url(parse_device_url(url), profile)
            rate[:] = [sim.rate_hz]

            def tap(_start: int, commanded: np.ndarray) -> None:
                samples.append(commanded)
                if self.stop_after is not None and sum(s.size for s in samples) > self.stop_after:
                    self.stop()

            return SimDevice(clock, profile, sim, tap=tap)

        return open_tapped


def check(output: Output, rate_hz: float) -> None:
    """The output, joined across sessions with the idle gaps between them, against the limits."""
    rest_n = round(MIN_REST_S * rate_hz)
    window_n = round(HOME.dc_window_s.value * rate_hz)
    pieces: list[np.ndarray] = []
    quiet_n = 0  # samples without current before the piece
    net_from_uc = 0.0  # the net charge when the account last started afresh
    q_uc = 0.0
    for n, samples in enumerate(output.sessions):
        if n:
            gap_n = round(output.gaps_s[n - 1] * rate_hz)
            quiet_n += gap_n
            pieces.append(np.full(min(gap_n, window_n + 1), q_uc))
        ua = np.concatenate(samples) if samples else np.zeros(0)
        charge = q_uc + np.cumsum(ua) / rate_hz
        if quiet_n + _leading_zeros(ua) >= rest_n:
            net_from_uc = q_uc  # a rest of the session rule: the account may start afresh
        if ua.size:
            net = charge - net_from_uc
            assert np.abs(net).max() <= HOME.max_imbalance_uc.value + 1e-6
            pieces.append(charge)
            q_uc = float(charge[-1])
            quiet_n = _trailing_zeros(ua) if np.any(ua) else quiet_n + ua.size
    joined = np.concatenate(pieces) if pieces else np.zeros(1)
    span = maximum_filter1d(joined, window_n + 1) - minimum_filter1d(joined, window_n + 1)
    assert span.max() <= HOME.max_mean_dc_ua.value * HOME.dc_window_s.value + 1e-6


def _leading_zeros(ua: np.ndarray) -> int:
    on = np.flatnonzero(ua)
    return int(on[0]) if on.size else ua.size


def _trailing_zeros(ua: np.ndarray) -> int:
    on = np.flatnonzero(ua)
    return ua.size - 1 - int(on[-1]) if on.size else ua.size


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root: Path = tmp_path_factory.mktemp("b2b")
    return open_store(f"sqlite:///{root / 'records.db'}", settings=StoreSettings(data_dir=root),
                      upgrade=True)  # fmt: skip


sessions_plan = st.lists(
    st.tuples(
        st.sampled_from([0.0, 1.0, 9.0, 30.0, 59.0, 61.0, 120.0]),  # wall gap before, s
        st.one_of(st.none(), st.floats(0.2, 40.0)),  # stopped after so many device s, or not
    ),
    min_size=2,
    max_size=4,
)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(plan=sessions_plan)
def test_no_sequence_of_sessions_gaps_and_stops_passes_the_charge_limits(
    store: Store, monkeypatch: pytest.MonkeyPatch, plan: list[tuple[float, float | None]]
) -> None:
    output, rate = Output(), [20_000.0]
    monkeypatch.setattr(live_module, "open_device", output.opener(rate))
    wall = Wall()
    sessions = LiveSessions(store=store, monotonic=wall)
    client, practitioner = cleared_client_once(store)
    try:
        for n, (gap_s, stop_s) in enumerate(plan):
            if n:
                wall.now += gap_s
                output.gaps_s.append(gap_s)
            output.stop_after = None if stop_s is None else round(stop_s * rate[0])
            request = StartRequest(client, "C", PROTOCOL, DEVICE, 1.0, practitioner)
            live = sessions.start(request, on=date.today(), clock=SimulatedClock())
            output.stop = live.runner.stop
            assert live.wait(300), "the session did not end"
            assert str(live.runner.status) in ("completed", "stopped"), live.runner.status
    finally:
        sessions.shutdown()
    check(output, rate[0])


_CLIENTS: dict[int, tuple[int, int]] = {}


def cleared_client_once(store: Store) -> tuple[int, int]:
    """The one cleared client of the module's store (a practitioner's e-mail is unique)."""
    key = id(store)
    if key not in _CLIENTS:
        _CLIENTS[key] = cleared_client(store)
    return _CLIENTS[key]


def test_the_check_finds_output_that_passes_a_limit() -> None:
    """The oracle above is no rubber stamp: 150 µA of DC for 10 s (1500 µC) breaks it."""
    output = Output()
    output.sessions = [[np.full(200_000, 150.0)]]
    with pytest.raises(AssertionError):
        check(output, 20_000.0)
