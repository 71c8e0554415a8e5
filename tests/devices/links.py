"""A byte link between a serial host and a `Firmware` in one process, on one simulated clock.

`FirmwareLink` is the port the host is given: what the host writes reaches the firmware at
once, and each read first lets the firmware catch up with the clock. Each frame in either
direction meets the next fate queued for that direction (default: delivered): dropped,
duplicated, corrupted (one byte flipped), or delayed until after the next frame (reordered).
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from microamp.clock import SimulatedClock
from microamp.devices import open_device
from microamp.devices.firmware import Firmware
from microamp.devices.serial_device import SerialDevice
from microamp.devices.sim import SimDevice
from microamp.safety import get_profile

Fate = Literal["deliver", "drop", "duplicate", "corrupt", "delay"]
FATES: tuple[Fate, ...] = ("deliver", "drop", "duplicate", "corrupt", "delay")
PHYSICS = "sim://?load=gel&ramp_s=0&rate_hz=2000&noise_ua=0&noise_v=0"


class _Direction:
    """Frames one way, each meeting the next queued fate."""

    def __init__(self) -> None:
        self.fates: deque[Fate] = deque()
        self._partial = bytearray()
        self._held: list[bytes] = []

    def carry(self, data: bytes) -> list[bytes]:
        self._partial += data
        out: list[bytes] = []
        while (end := self._partial.find(0)) >= 0:
            frame = bytes(self._partial[: end + 1])
            del self._partial[: end + 1]
            out += self._one(frame)
        return out

    def _one(self, frame: bytes) -> list[bytes]:
        fate = self.fates.popleft() if self.fates else "deliver"
        if fate == "delay":
            self._held.append(frame)
            return []
        if fate == "drop":
            passed = []
        elif fate == "duplicate":
            passed = [frame, frame]
        elif fate == "corrupt":
            spoiled = bytearray(frame)
            spoiled[len(frame) // 2 - 1] ^= 0x55  # never the delimiter
            passed = [bytes(spoiled)]
        else:
            passed = [frame]
        held, self._held = self._held, []
        return passed + held


class FirmwareLink:
    """The host's port (see the module docstring)."""

    def __init__(self, firmware: Firmware) -> None:
        self.firmware = firmware
        self.to_device = _Direction()
        self.to_host = _Direction()
        self._inbox = bytearray()
        self.closed = False

    def _catch_up(self) -> None:
        self.firmware.tick()
        for frame in self.to_host.carry(self.firmware.take_output()):
            self._inbox += frame

    @property
    def in_waiting(self) -> int:
        self._catch_up()
        return len(self._inbox)

    def read(self, size: int = 1) -> bytes:
        self._catch_up()
        data = bytes(self._inbox[:size])
        del self._inbox[:size]
        return data

    def write(self, data: bytes) -> int:
        for frame in self.to_device.carry(data):
            self.firmware.receive(frame)
        return len(data)

    def close(self) -> None:
        self.closed = True


def firmware_on(clock: SimulatedClock, *, first_seq: int = 0, physics: str = PHYSICS) -> Firmware:
    """A firmware rendering the sim physics (a ``sim://`` URL) on ``clock``."""
    sim = open_device(physics, clock=clock, profile=get_profile("professional"))
    assert isinstance(sim, SimDevice)
    return Firmware(sim, clock, first_seq=first_seq)


def linked_host(
    clock: SimulatedClock,
    *,
    profile: str = "home",
    first_seq: int = 0,
    reply_timeout_s: float = 0.05,
    physics: str = PHYSICS,
) -> tuple[SerialDevice, FirmwareLink]:
    """A serial host connected (over a clean link) to a fresh firmware on ``clock``."""
    link = FirmwareLink(firmware_on(clock, first_seq=first_seq, physics=physics))
    host = SerialDevice(
        clock,
        get_profile(profile),
        link,
        reply_timeout_s=reply_timeout_s,
        first_seq=first_seq,
    )
    return host, link


def close_both(host: SerialDevice, link: FirmwareLink) -> None:
    link.to_device.fates.clear()
    link.to_host.fates.clear()
    host.close()
    link.firmware.sim.close()
