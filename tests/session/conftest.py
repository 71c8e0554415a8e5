"""Session test helpers: a sim device that records every command it is given, on simulated time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from microamp.clock import SimulatedClock
from microamp.devices.base import Command
from microamp.devices.sim import SimDevice
from microamp.devices.urls import parse_device_url
from microamp.protocols import Protocol, parse_protocol
from microamp.safety import LimitProfile, get_profile


class RecordingSim(SimDevice):
    """The real sim backend, keeping (device time, command) for each command and renewal."""

    commands: list[tuple[float, Command]]
    renewals: list[float]

    def _apply(self, command: Command) -> None:
        super()._apply(command)
        self.commands.append((self.clock.now(), command))
        self.renewals.append(self.clock.now())

    def _heartbeat(self) -> None:
        super()._heartbeat()
        self.renewals.append(self.clock.now())


OpenSim = Callable[..., RecordingSim]


@pytest.fixture
def open_sim() -> Any:
    opened: list[RecordingSim] = []

    def _open(url: str = "sim://?load=gel", profile: LimitProfile | None = None) -> RecordingSim:
        device = RecordingSim.from_url(
            parse_device_url(url), clock=SimulatedClock(), profile=profile or get_profile("home")
        )
        assert isinstance(device, RecordingSim)
        device.commands = []
        device.renewals = []
        opened.append(device)
        return device

    yield _open
    for device in opened:
        device.close()


def _small_protocol(**changes: Any) -> Protocol:
    """Three short steps on a home profile: neck (both sides), chin (midline), eyes (right)."""
    data: dict[str, Any] = {
        "name": "small",
        "title": "Small",
        "version": "1",
        "audience": "home",
        "example": True,
        "description": "An example for tests.",
        "defaults": {
            "hold_s": 5.0,
            "glide_s": 5.0,
            "repetitions": 2,
            "ramp_s": 1.0,
            "cue_interval_s": 5.0,
            "waveform": {"shape": "square", "amplitude_ua": 300.0, "frequency_hz": 10.0},
        },
        "steps": [
            {"muscle": "platysma"},
            {"muscle": "mentalis"},
            {"muscle": "orbicularis-oculi", "side": "right", "waveform": {"amplitude_ua": 150.0}},
        ],
    }
    data.update(changes)
    return parse_protocol(data, get_profile("home"))


@pytest.fixture
def small_protocol() -> Callable[..., Protocol]:
    return _small_protocol
