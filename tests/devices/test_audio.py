"""The audio backend, driven through a fake stream passed in (no patching, no sound card)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from microamp.clock import SimulatedClock
from microamp.devices import Command
from microamp.devices.audio import AudioDevice
from microamp.devices.registry import available_backends
from microamp.errors import InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

BIPHASIC = Waveform(shape="square", amplitude_ua=200.0, frequency_hz=100.0, polarity="biphasic")


def _open(clock: SimulatedClock, **options: Any) -> tuple[AudioDevice, FakeStream]:
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    device = AudioDevice(clock, get_profile("home"), factory, **options)
    return device, streams[0]


def test_audio_declares_ac_coupling_and_renders_in_the_callback() -> None:
    clock = SimulatedClock()
    device, stream = _open(clock)
    with device:
        assert device.capabilities.coupling == "ac" and stream.started
        device.apply(Command(BIPHASIC, expires_after_s=2.0))
        out = stream.pull(150)
        frames = device.poll()
    assert stream.closed
    assert np.max(np.abs(out)) <= 200.0 / 1000.0 + 1e-6
    assert abs(float(np.mean(out))) < 1e-3  # biphasic: no DC through the coupling
    assert frames and all("unmeasured" in f.flags for f in frames)


@pytest.mark.parametrize(
    ("waveform", "field"),
    [
        (Waveform(shape="square", polarity="positive"), "polarity"),
        (Waveform(shape="square", polarity="alternating", reversal_s=2.5), "reversal_s"),
        (Waveform(shape="square", polarity="biphasic", frequency_hz=1.0), "frequency_hz"),
        (Waveform(shape="sine", frequency_hz=2.0), "frequency_hz"),
    ],
)
def test_ac_coupled_output_refuses_what_it_cannot_carry_with_a_reason(
    waveform: Waveform, field: str
) -> None:
    device, _ = _open(SimulatedClock())
    with device:
        with pytest.raises(InvalidValue, match="AC-coupled") as info:
            device.apply(Command(waveform))
        assert info.value.field == field
        assert device.command is None


def test_dc_coupled_adapter_carries_a_slow_reversal() -> None:
    device, stream = _open(SimulatedClock(), coupling="dc")
    with device:
        device.apply(Command(Waveform(shape="square", reversal_s=2.5)))
        assert np.max(np.abs(stream.pull(10))) > 0


def test_audio_command_expires_to_silence_on_its_own() -> None:
    clock = SimulatedClock()
    device, stream = _open(clock)
    with device:
        device.apply(Command(BIPHASIC, expires_after_s=0.2))
        stream.pull(10)
        clock.advance(0.3)
        silent = stream.pull(5)
        device.poll()
        faults = device.drain_faults()
    assert np.all(silent == 0)
    assert [f.code for f in faults] == [FaultCode.COMMAND_EXPIRED]


def test_audio_backend_reports_the_missing_extra_by_name() -> None:
    info = {b.name: b for b in available_backends()}["audio"]
    if not info.available:
        assert info.reason is not None and "microamp[audio]" in info.reason
