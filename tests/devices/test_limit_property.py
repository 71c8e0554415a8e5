"""Property: no command on any backend gets past the effective limit.

Random waveforms, intensities, zones, profiles and client ceilings, on `sim`, on the serial host
with its firmware (in one process, on a simulated clock) and on the sound card (a fake stream):
a command is either refused whole with `InvalidValue`, or it and the output it produces stay
within the minimum over every layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devices.links import close_both, linked_host
from microamp.clock import SimulatedClock
from microamp.devices import Command, Device, open_device
from microamp.devices.audio import AudioDevice
from microamp.errors import InvalidValue
from microamp.safety import ZONES, LimitProfile, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream
from support.strategies import waveforms

# Output a backend produced over a short run, as the largest current seen (µA).
Run = Callable[[], float]


@contextmanager
def _sim(clock: SimulatedClock, profile: LimitProfile) -> Iterator[tuple[Device, Run]]:
    url = "sim://?load=gel&ramp_s=0&rate_hz=4000&noise_ua=0&noise_v=0"
    with open_device(url, clock=clock, profile=profile) as device:

        def run() -> float:
            clock.advance(0.05)
            return max((f.peak_ua for f in device.poll()), default=0.0)

        yield device, run


@contextmanager
def _serial(clock: SimulatedClock, profile: LimitProfile) -> Iterator[tuple[Device, Run]]:
    host, link = linked_host(clock, profile=profile.name)
    try:

        def run() -> float:
            clock.advance(0.05)
            frames = host.poll()
            return max((f.peak_ua for f in frames), default=0.0)

        yield host, run
    finally:
        close_both(host, link)


@contextmanager
def _audio(clock: SimulatedClock, profile: LimitProfile) -> Iterator[tuple[Device, Run]]:
    streams: list[FakeStream] = []

    def factory(**options: Any) -> FakeStream:
        streams.append(FakeStream(**options))
        return streams[-1]

    with AudioDevice(clock, profile, factory, full_scale_ua=1000.0) as device:

        def run() -> float:
            clock.advance(0.05)
            return float(np.max(np.abs(streams[0].pull(5)))) * 1000.0

        yield device, run


BACKENDS = {"sim": _sim, "serial": _serial, "audio": _audio}


def _effective_ua(command: Command, profile: LimitProfile, max_current_ua: float) -> float:
    limits = [profile.zone_cap_ua(command.zone), max_current_ua]
    if command.client_max_ua is not None:
        limits.append(command.client_max_ua)
    return min(limits)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    backend=st.sampled_from(sorted(BACKENDS)),
    profile_name=st.sampled_from(["home", "professional"]),
    waveform=waveforms(),
    intensity=st.floats(0.0, 1.0),
    zone=st.sampled_from([None, *ZONES]),
    client_max_ua=st.none() | st.floats(0.0, 1000.0),
)
def test_no_command_on_any_backend_exceeds_the_effective_limit(
    backend: str,
    profile_name: str,
    waveform: Waveform,
    intensity: float,
    zone: str | None,
    client_max_ua: float | None,
) -> None:
    profile = get_profile(profile_name)
    command = Command(waveform, intensity, 0.5, zone=zone, client_max_ua=client_max_ua)
    with BACKENDS[backend](SimulatedClock(), profile) as (device, run):
        effective_ua = _effective_ua(command, profile, device.capabilities.max_current_ua)
        try:
            device.apply(command)
        except InvalidValue as refusal:
            assert device.command is None  # refused whole: nothing started
            event(f"{backend}: refused ({refusal.field})")
            return
        event(f"{backend}: accepted")
        assert command.commanded_ua <= effective_ua * (1 + 1e-9)
        low, high = profile.min_frequency_hz.value, profile.max_frequency_hz.value
        assert low <= waveform.frequency_hz <= high
        assert run() <= effective_ua * (1 + 1e-6) + 1e-6


@settings(max_examples=40, deadline=None)
@given(
    backend=st.sampled_from(sorted(BACKENDS)),
    zone=st.sampled_from([None, *ZONES]),
    excess_ua=st.floats(1.0, 500.0),
)
def test_a_command_above_the_effective_limit_is_refused_on_every_backend(
    backend: str, zone: str | None, excess_ua: float
) -> None:
    profile = get_profile("home")
    waveform = Waveform(shape="square", frequency_hz=100.0, duty=0.5, polarity="biphasic")
    with BACKENDS[backend](SimulatedClock(), profile) as (device, _run):
        limit_ua = _effective_ua(Command(waveform, zone=zone), profile, 1000.0)
        command = Command(waveform.with_amplitude(min(1000.0, limit_ua + excess_ua)), zone=zone)
        try:
            device.apply(command)
        except InvalidValue as refusal:
            assert refusal.field == "amplitude_ua"
            assert device.command is None
            return
        raise AssertionError(f"{backend} accepted {command.commanded_ua:g} µA over {limit_ua:g}")
