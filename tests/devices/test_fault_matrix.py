"""The fault matrix's audio row: a sound card's stream that stops being serviced (a stall or an
unplugged card look alike to the host) and a host that falls silent both end in zero output and a
fault event under the supervisor. The sim and emulator rows are in test_sim.py, test_emulator.py
and test_driver_suite.py; contact loss and dry skin cannot be seen on an open-loop sound card
(it measures nothing), which its frames say with the ``unmeasured`` flag."""

from __future__ import annotations

from typing import Any

import numpy as np

from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor
from microamp.devices.audio import AudioDevice
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

BIPHASIC = Waveform(shape="square", amplitude_ua=200.0, frequency_hz=100.0, polarity="biphasic")
TICK_S = 0.01


def _supervised_audio() -> tuple[AudioDevice, FakeStream, Supervisor, SimulatedClock]:
    clock = SimulatedClock()
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    profile = get_profile("home")
    device = AudioDevice(clock, profile, factory)
    return device, streams[0], Supervisor(device, profile, clock), clock


def _blocks_per_tick(stream: FakeStream) -> int:
    rate_hz = float(stream.settings["samplerate"])
    return max(1, round(TICK_S * rate_hz / stream.settings["blocksize"]))


def test_a_stalled_audio_stream_ends_in_zero_output_and_a_silence_fault() -> None:
    device, stream, supervisor, clock = _supervised_audio()
    with device:
        supervisor.apply(Command(BIPHASIC, intensity=1.0))
        for _ in range(50):  # half a second of healthy output, the card pulling blocks
            stream.pull(_blocks_per_tick(stream))
            clock.sleep(TICK_S)
            assert not supervisor.service().faults
        faults = []
        for _ in range(20):  # the card stops calling back
            clock.sleep(TICK_S)
            faults += supervisor.service().faults
        after = stream.pull(5)
    assert [f.code for f in faults] == [FaultCode.TELEMETRY_SILENT]
    assert not supervisor.running and device.command is None
    assert np.all(after == 0.0)


def test_a_silent_host_lets_the_audio_output_expire_to_zero() -> None:
    device, stream, supervisor, clock = _supervised_audio()
    with device:
        supervisor.apply(Command(BIPHASIC, intensity=1.0, expires_after_s=0.2))
        stream.pull(_blocks_per_tick(stream))
        clock.sleep(0.3)  # the host never services the supervisor
        silent = stream.pull(10)
        faults = supervisor.service().faults
    assert np.all(silent == 0.0)
    assert FaultCode.COMMAND_EXPIRED in {f.code for f in faults}
