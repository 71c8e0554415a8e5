"""The serial wire is exact: each request is answered for itself, and silence is a fault.

The host and the firmware run in one process on one simulated clock, joined by a link that can
lose, duplicate, corrupt and reorder frames (tests/devices/links.py). Sequence numbers start
near the wrap, so every case crosses it.
"""

from __future__ import annotations

import math
import struct
from typing import cast

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from devices.links import FATES, Fate, close_both, linked_host
from microamp.clock import SimulatedClock
from microamp.devices import Command
from microamp.devices.serial_device import SerialDevice
from microamp.devices.wire import (
    CAPS_BODY,
    HEARTBEAT_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    ack_body,
    command_body,
    crc16,
    encode,
)
from microamp.errors import DeviceError, InvalidValue
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

STEADY = Waveform(shape="square", amplitude_ua=400.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
NEAR_WRAP = 0xFFFF - 3


def _wire_crc(command: Command) -> int:
    return crc16(command_body(command.waveform, command.intensity, command.expires_after_s))


def test_a_lost_command_after_the_sequence_wraps_is_a_fault_not_an_acceptance() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock, first_seq=NEAR_WRAP)
    try:
        host.apply(Command(STEADY, expires_after_s=1.0))
        for _ in range(8):  # past the wrap, every heartbeat answered
            clock.advance(0.05)
            host.heartbeat()
        link.to_device.fates.append("drop")
        with pytest.raises(DeviceError, match="did not acknowledge COMMAND"):
            host.apply(Command(STEADY.with_amplitude(50.0), expires_after_s=1.0))
        assert host.command is None
        assert not link.firmware.sim.output_on  # the host sent STOP, and it arrived
        assert FaultCode.DRIVER_ERROR in {f.code for f in host.drain_faults()}
    finally:
        close_both(host, link)


def test_an_acknowledgement_for_another_message_is_never_taken_for_a_commands() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock, first_seq=NEAR_WRAP)
    try:
        host.apply(Command(STEADY, expires_after_s=1.0))
        # the command reaches the firmware, but its ACK is lost: the host must not believe it
        link.to_host.fates.append("drop")
        with pytest.raises(DeviceError):
            host.apply(Command(STEADY.with_amplitude(50.0), expires_after_s=1.0))
        assert host.command is None and not link.firmware.sim.output_on
    finally:
        close_both(host, link)


def test_a_duplicated_command_frame_is_carried_out_once() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock, first_seq=NEAR_WRAP)
    try:
        link.to_device.fates.append("duplicate")
        host.apply(Command(STEADY, expires_after_s=1.0))
        host.stop()
        assert not link.firmware.sim.output_on
        assert link.firmware.dropped_stale == 1
    finally:
        close_both(host, link)


def test_a_late_command_frame_cannot_restart_output_after_stop() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        link.to_device.fates.append("delay")
        with pytest.raises(DeviceError):
            host.apply(Command(STEADY, expires_after_s=1.0))
        # the STOP that followed released the late COMMAND behind it: refused as stale
        assert host.command is None and not link.firmware.sim.output_on
        assert link.firmware.dropped_stale == 1
    finally:
        close_both(host, link)


def test_a_heartbeat_for_a_command_the_firmware_no_longer_runs_is_refused_and_faults() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        host.apply(Command(STEADY, expires_after_s=1.0))
        link.firmware.zero("test")  # output stops without the host hearing of it
        with pytest.raises(DeviceError, match="not_ready"):
            host.heartbeat()
        assert host.command is None
    finally:
        close_both(host, link)


def test_the_host_counts_output_as_zero_when_the_firmware_watchdog_would() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        host.apply(Command(STEADY, expires_after_s=2.0))
        link.to_host.fates.extend(["drop"] * 200)  # the firmware's FAULT never arrives
        clock.advance(0.3)
        host.poll()
        assert host.command is None
        # then STOP went out, and its acknowledgement was lost too
        codes = [f.code for f in host.drain_faults()]
        assert codes == [FaultCode.WATCHDOG, FaultCode.DRIVER_ERROR]
        assert not link.firmware.sim.output_on
    finally:
        close_both(host, link)


def test_the_host_counts_output_as_zero_when_the_command_expires_on_the_firmware() -> None:
    clock = SimulatedClock()
    host, link = linked_host(clock)
    try:
        host.apply(Command(STEADY, expires_after_s=0.2))
        link.to_host.fates.extend(["drop"] * 200)
        clock.advance(0.2)
        host.poll()
        assert host.command is None
        assert [f.code for f in host.drain_faults()][0] == FaultCode.COMMAND_EXPIRED
        assert not link.firmware.sim.output_on
    finally:
        close_both(host, link)


class LossyWire(RuleBasedStateMachine):
    """Host and firmware through loss, duplication, corruption, reordering and the wrap."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = SimulatedClock()
        self.host, self.link = linked_host(self.clock, first_seq=NEAR_WRAP)

    def teardown(self) -> None:
        close_both(self.host, self.link)

    @rule(
        amplitude_ua=st.sampled_from([0.0, 50.0, 200.0, 400.0]),
        intensity=st.sampled_from([0.25, 0.5, 1.0]),
        expires_after_s=st.sampled_from([0.15, 0.5, 2.0]),
    )
    def apply(self, amplitude_ua: float, intensity: float, expires_after_s: float) -> None:
        command = Command(STEADY.with_amplitude(amplitude_ua), intensity, expires_after_s)
        try:
            self.host.apply(command)
        except (DeviceError, InvalidValue):
            pass

    @rule()
    def heartbeat(self) -> None:
        try:
            self.host.heartbeat()
        except DeviceError:
            pass

    @rule()
    def stop(self) -> None:
        self.host.stop()

    @rule(seconds=st.sampled_from([0.01, 0.05, 0.12, 0.3]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        try:
            self.host.poll()
        except DeviceError:
            pass

    @rule(
        to_device=st.booleans(),
        fates=st.lists(st.sampled_from(FATES), min_size=1, max_size=3),
    )
    def spoil(self, to_device: bool, fates: list[str]) -> None:
        direction = self.link.to_device if to_device else self.link.to_host
        direction.fates.extend(cast(list[Fate], fates))

    @precondition(lambda self: self.host.command is not None)
    @rule(beats=st.integers(1, 40))
    def renew_many(self, beats: int) -> None:
        for _ in range(beats):
            self.clock.advance(0.01)
            try:
                self.host.heartbeat()
                self.host.poll()
            except DeviceError:
                return

    @invariant()
    def host_never_believes_an_output_the_firmware_is_not_producing(self) -> None:
        firmware = self.link.firmware
        believed = self.host.command
        if believed is not None:
            assert firmware.sim.command is not None, "the host believes output the device stopped"
            assert firmware.command_crc == _wire_crc(believed)
        elif firmware.sim.command is not None:
            # only after a STOP that went unacknowledged, and only until the firmware's
            # watchdog: the backstop
            assert not self.host.output_confirmed_zero, "output runs after a confirmed stop"
            assert self.host.fault is not None
            assert firmware.host_seen_s is not None
            assert self.clock.now() - firmware.host_seen_s < firmware.watchdog_s


LossyWire.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_host_never_believes_an_output_the_firmware_is_not_producing = LossyWire.TestCase


class EchoingPort:
    """A firmware stand-in that answers every request, but COMMANDs with a spoiled echo.

    The ACK carries the COMMAND's sequence number, with the type and CRC of another message,
    as a stale heartbeat's ACK would after the numbers wrapped.
    """

    def __init__(self, clock: SimulatedClock, caps: bytes | None = None) -> None:
        self.clock = clock
        self.caps = caps or CAPS_BODY.pack(
            PROTOCOL_VERSION, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, 0
        )
        self.reader = FrameReader()
        self.inbox = bytearray()
        self.seq = 0

    @property
    def in_waiting(self) -> int:
        return len(self.inbox)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.inbox[:size])
        del self.inbox[:size]
        return data

    def write(self, data: bytes) -> int:
        for request in self.reader.feed(data):
            self.seq += 1
            if request.type == MsgType.HELLO:
                self.inbox += encode(Message(MsgType.CAPS, request.seq, self.caps))
            elif request.type == MsgType.COMMAND:
                other = Message(MsgType.HEARTBEAT, request.seq, HEARTBEAT_BODY.pack(1))
                self.inbox += encode(Message(MsgType.ACK, self.seq, ack_body(other)))
            else:
                self.inbox += encode(Message(MsgType.ACK, self.seq, ack_body(request)))
        return len(data)

    def close(self) -> None:
        pass


def test_a_reply_with_the_right_number_but_for_another_message_is_not_an_acknowledgement() -> None:
    clock = SimulatedClock()
    host = SerialDevice(clock, get_profile("home"), EchoingPort(clock), reply_timeout_s=0.05)
    with host:
        with pytest.raises(DeviceError, match="did not acknowledge COMMAND"):
            host.apply(Command(STEADY, expires_after_s=1.0))
        assert host.command is None
        assert host.dropped_replies >= 1


# version 2's CAPS: the same fields up to the device time, no step, then the model name
VERSION_2_CAPS = struct.pack("<BffBffffHQ", 2, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0) + b"v2 fw"


@pytest.mark.parametrize(
    ("caps", "refusal"),
    [
        (VERSION_2_CAPS, "speaks protocol 2, this host 3"),
        (VERSION_2_CAPS[:1], "speaks protocol 2, this host 3"),
        (CAPS_BODY.pack(3, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, math.nan), "step of nan"),
        (CAPS_BODY.pack(3, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, -1.0), "step of -1"),
        (CAPS_BODY.pack(3, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, math.inf), "step of inf"),
        (CAPS_BODY.pack(3, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, 0)[:-1], "capabilities"),
    ],
)
def test_a_device_whose_caps_cannot_say_its_output_step_is_refused_at_connect(
    caps: bytes, refusal: str
) -> None:
    port = EchoingPort(SimulatedClock(), caps)
    with pytest.raises(DeviceError, match=refusal):
        SerialDevice(port.clock, get_profile("home"), port, reply_timeout_s=0.05)


def test_the_host_takes_the_output_step_the_device_declares() -> None:
    caps = CAPS_BODY.pack(PROTOCOL_VERSION, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, 0.1)
    port = EchoingPort(SimulatedClock(), caps + b"fw")
    with SerialDevice(port.clock, get_profile("home"), port, reply_timeout_s=0.05) as host:
        assert host.capabilities.current_step_ua == 0.1  # as sent, not float32's 0.100000001
        assert host.capabilities.model == "fw"
