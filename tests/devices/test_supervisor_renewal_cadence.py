"""The supervisor renews the command once a heartbeat period (0.1 s or a quarter of the
command's expiry, whichever is shorter) has passed since the last renewal: never later, so the
command never comes close to lapsing, and never sooner, so a link is not flooded with
heartbeats."""

from __future__ import annotations

import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.safety import get_profile
from microamp.stimulus import Waveform

PROFILE = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=200.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def renewal_times(expiry_s: float, tick_s: float, until_s: float) -> list[float]:
    """The device times at which a supervisor serviced every ``tick_s`` renewed the command."""
    clock = SimulatedClock()
    with open_device("sim://?load=gel", clock=clock, profile=PROFILE) as device:
        supervisor = Supervisor(device, PROFILE, adapt=False)
        supervisor.apply(Command(STEADY, expires_after_s=expiry_s))
        renewed = [clock.now()]
        last = device.expires_at_s
        while clock.now() < until_s:
            clock.sleep(tick_s)
            assert supervisor.service().faults == []
            if device.expires_at_s != last:
                renewed.append(clock.now())
                last = device.expires_at_s
        supervisor.stop()
    return renewed


@pytest.mark.parametrize(
    ("expiry_s", "ticks"),
    [(0.25, 8), (2.0, 13)],
    ids=["a quarter of the expiry", "0.1 s"],
)
def test_a_supervisor_serviced_often_renews_exactly_once_a_heartbeat_period(
    expiry_s: float, ticks: int
) -> None:
    # serviced every 1/128 s (times exact in binary): a heartbeat period of 0.0625 s (a quarter
    # of 0.25 s) is 8 ticks; one of 0.1 s is first reached at the 13th tick (12 are 0.094 s)
    times = renewal_times(expiry_s, 1 / 128, 1.0)

    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 7
    assert all(gap == pytest.approx(ticks / 128) for gap in gaps), gaps
