"""What the serial host records when the firmware cannot confirm zero output: a STOP that goes
unacknowledged and a lost link each name when output is sure to be zero (the firmware's watchdog,
counted from the last message the host sent) and why, in words an operator can act on."""

from __future__ import annotations

import re

import serial

from devices.links import FirmwareLink, close_both, firmware_on, linked_host
from microamp.clock import SimulatedClock
from microamp.devices import Command
from microamp.devices.serial_device import SerialDevice
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)


def _running(clock: SimulatedClock) -> tuple[SerialDevice, FirmwareLink]:
    host, link = linked_host(clock, reply_timeout_s=0.05)
    host.apply(Command(STEADY, expires_after_s=1.0))
    clock.advance(0.02)
    host.poll()
    assert host.drain_faults() == []
    return host, link


def test_an_unacknowledged_stop_is_a_driver_error_zeroed_by_the_watchdog_after_the_stop() -> None:
    clock = SimulatedClock()
    host, link = _running(clock)
    try:
        stop_sent_s = clock.now()
        link.to_device.fates.append("drop")
        host.stop()
        faults = host.drain_faults()
        assert [f.code for f in faults] == [FaultCode.DRIVER_ERROR]
        fault = faults[0]
        assert fault.detected_t_s == clock.now()
        assert fault.detected_t_s > stop_sent_s + 0.05  # after the whole reply timeout
        assert fault.zero_t_s == stop_sent_s + host.watchdog_s
        assert fault.onset_t_s is None
        assert set(fault.detail) == {"error", "zero"}
        assert re.fullmatch(
            r"STOP was not acknowledged: the device did not acknowledge STOP \(seq \d+\) "
            r"within 0\.05 s",
            fault.detail["error"],
        )
        assert fault.detail["zero"] == (
            f"by the device's watchdog, at most {host.watchdog_s:g} s after the last message it heard"
        )
        assert not host.output_confirmed_zero
    finally:
        close_both(host, link)


def test_an_acknowledged_stop_confirms_zero_and_records_nothing() -> None:
    clock = SimulatedClock()
    host, link = _running(clock)
    try:
        host.stop()
        assert host.drain_faults() == []
        assert host.output_confirmed_zero
    finally:
        close_both(host, link)


class Unplugged:
    """A port whose cable is pulled on demand: then every read and write fails as pyserial's do,
    and each failure is counted."""

    def __init__(self, link: FirmwareLink) -> None:
        self._link = link
        self.pulled = False
        self.failures = 0

    def _check(self) -> None:
        if self.pulled:
            self.failures += 1
            raise serial.SerialException("the port is gone")

    @property
    def in_waiting(self) -> int:
        self._check()
        return self._link.in_waiting

    def read(self, size: int = 1) -> bytes:
        self._check()
        return self._link.read(size)

    def write(self, data: bytes) -> int:
        self._check()
        return self._link.write(data)

    def close(self) -> None:
        self._link.close()


def test_a_lost_link_is_one_disconnect_dated_when_found_and_zeroed_by_the_watchdog() -> None:
    clock = SimulatedClock()
    link = FirmwareLink(firmware_on(clock))
    port = Unplugged(link)
    host = SerialDevice(clock, get_profile("home"), port, reply_timeout_s=0.05)
    try:
        host.apply(Command(STEADY, expires_after_s=1.0))
        last_sent_s = clock.now()
        clock.advance(0.03)
        port.pulled = True
        host.poll()
        found_s = clock.now()
        clock.advance(0.03)
        host.poll()  # the link stays lost: not a second fault
        faults = host.drain_faults()
        assert [f.code for f in faults] == [FaultCode.DISCONNECTED]
        fault = faults[0]
        assert fault.onset_t_s == found_s
        assert fault.detected_t_s == found_s
        assert fault.zero_t_s == last_sent_s + host.watchdog_s
        assert fault.detail == {
            "error": "SerialException: the port is gone",
            "zero": f"by the device's watchdog, at most {host.watchdog_s:g} s "
            "after the last message it heard",
        }
        assert port.failures == 1  # once lost, the host stops touching the port
        assert host.command is None
    finally:
        close_both(host, link)
