"""A serial cable pulled while the host waits for an acknowledgement is the disconnect, reported
once and at once: the host stops waiting for a reply that can no longer come, and does not add a
driver error for the acknowledgement it never got."""

from __future__ import annotations

import serial

from devices.links import FirmwareLink, firmware_on
from microamp.clock import SimulatedClock
from microamp.devices import Command, Supervisor
from microamp.devices.serial_device import SerialDevice
from microamp.devices.wire import FrameReader, MsgType
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


class PulledAfter:
    """The host's port, whose cable is pulled just after the host has written a ``kind``
    message: that message leaves, and every read and write after it fails as pyserial's do."""

    def __init__(self, link: FirmwareLink, kind: MsgType) -> None:
        self._link = link
        self._kind = kind
        self._reader = FrameReader()
        self.armed = False
        self.pulled = False
        self.pulled_s = 0.0

    def _check(self) -> None:
        if self.pulled:
            raise serial.SerialException("device reports readiness to read but returned no data")

    @property
    def in_waiting(self) -> int:
        self._check()
        return self._link.in_waiting

    def read(self, size: int = 1) -> bytes:
        self._check()
        return self._link.read(size)

    def write(self, data: bytes) -> int:
        self._check()
        written = self._link.write(data)
        if self.armed and any(m.type == self._kind for m in self._reader.feed(data)):
            self.pulled = True
            self.pulled_s = self._link.firmware.clock.now()
        return written

    def close(self) -> None:
        self._link.close()


def test_a_cable_pulled_while_a_heartbeat_awaits_its_ack_is_one_disconnect_found_at_once() -> None:
    clock = SimulatedClock()
    link = FirmwareLink(firmware_on(clock))
    port = PulledAfter(link, MsgType.HEARTBEAT)
    profile = get_profile("home")
    host = SerialDevice(clock, profile, port, reply_timeout_s=0.05)
    try:
        supervisor = Supervisor(host, profile, adapt=False)
        supervisor.apply(Command(STEADY, expires_after_s=1.0))
        clock.advance(0.05)
        assert supervisor.service().faults == []
        assert link.firmware.sim.output_on
        port.armed = True
        faults = []
        while not faults and clock.now() < 1.0:
            clock.advance(0.05)
            faults = supervisor.service().faults
        assert port.pulled

        assert [f.code for f in faults] == [FaultCode.DISCONNECTED]
        # found on the first read after the pull, not after waiting out the reply timeout
        assert faults[0].detected_t_s is not None
        assert faults[0].detected_t_s < port.pulled_s + 0.05
        assert not supervisor.running and host.command is None
    finally:
        host.close()
        link.firmware.sim.close()
