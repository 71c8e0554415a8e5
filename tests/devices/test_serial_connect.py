"""Connecting a serial host: a HELLO answered by anything but capabilities is refused in words,
a link that fails while connecting is a device error (the port closed), and a new host starts
numbered where it was told, with nothing dropped, output confirmed zero and its own timeouts."""

from __future__ import annotations

import pytest
import serial

from devices.links import FirmwareLink, close_both, firmware_on
from microamp.clock import SimulatedClock
from microamp.devices import Command
from microamp.devices.serial_device import SerialDevice
from microamp.devices.wire import (
    CAPS_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    ack_body,
    encode,
)
from microamp.errors import DeviceError
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform

HOME = get_profile("home")
STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
NO_CAPS = "the device did not answer HELLO with its capabilities"


class AnswersHello:
    """A device stand-in that answers HELLO with the reply it is given, and nothing else."""

    def __init__(self, reply_type: MsgType, body: bytes | None) -> None:
        self._reply_type = reply_type
        self._body = body
        self._reader = FrameReader()
        self._inbox = bytearray()
        self.closed = False

    @property
    def in_waiting(self) -> int:
        return len(self._inbox)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self._inbox[:size])
        del self._inbox[:size]
        return data

    def write(self, data: bytes) -> int:
        for request in self._reader.feed(data):
            body = ack_body(request) if self._body is None else self._body
            self._inbox += encode(Message(self._reply_type, request.seq, body))
        return len(data)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("reply_type", "body"),
    [
        (MsgType.ACK, None),  # an acknowledgement of the HELLO, not its capabilities
        (MsgType.CAPS, b""),
        (MsgType.CAPS, CAPS_BODY.pack(PROTOCOL_VERSION, 1000, 40, 1, 1, 0.1, 2000, 1000, 250, 0, 0)[:-1]),
    ],
)  # fmt: skip
def test_a_hello_not_answered_with_capabilities_is_refused_in_words(
    reply_type: MsgType, body: bytes | None
) -> None:
    port = AnswersHello(reply_type, body)
    with pytest.raises(DeviceError) as refused:
        SerialDevice(SimulatedClock(), HOME, port, reply_timeout_s=0.05)
    assert str(refused.value) == NO_CAPS
    assert port.closed


class WriteFails:
    """A port whose first write fails, as a cable pulled before connecting makes pyserial's."""

    closed = False
    in_waiting = 0

    def read(self, size: int = 1) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        raise serial.SerialException("write failed: [Errno 5] Input/output error")

    def close(self) -> None:
        self.closed = True


def test_a_link_that_fails_while_connecting_is_a_device_error_and_the_port_is_closed() -> None:
    port = WriteFails()
    with pytest.raises(DeviceError, match="^the serial link failed: write failed"):
        SerialDevice(SimulatedClock(), HOME, port, reply_timeout_s=0.05)
    assert port.closed


class Recording:
    """The host's port to a firmware, keeping every message the host sent."""

    def __init__(self, link: FirmwareLink) -> None:
        self._link = link
        self._reader = FrameReader()
        self.sent: list[Message] = []

    @property
    def in_waiting(self) -> int:
        return self._link.in_waiting

    def read(self, size: int = 1) -> bytes:
        return self._link.read(size)

    def write(self, data: bytes) -> int:
        self.sent += self._reader.feed(data)
        return self._link.write(data)

    def close(self) -> None:
        self._link.close()


@pytest.mark.parametrize(("first_seq", "hello_seq"), [(None, 1), (5, 6), (0x1_0005, 6)])
def test_a_new_host_numbers_its_first_message_after_the_number_it_is_given(
    first_seq: int | None, hello_seq: int
) -> None:
    clock = SimulatedClock()
    link = FirmwareLink(firmware_on(clock, first_seq=0))
    port = Recording(link)
    if first_seq is None:
        host = SerialDevice(clock, HOME, port, reply_timeout_s=0.05)
    else:
        host = SerialDevice(clock, HOME, port, reply_timeout_s=0.05, first_seq=first_seq)
    try:
        assert [(m.type, m.seq) for m in port.sent[:2]] == [
            (MsgType.HELLO, hello_seq),
            (MsgType.SET_LIMIT, hello_seq + 1),
        ]
    finally:
        close_both(host, link)


def test_a_new_host_has_dropped_nothing_and_knows_output_is_zero() -> None:
    clock = SimulatedClock()
    link = FirmwareLink(firmware_on(clock))
    host = SerialDevice(clock, HOME, link, reply_timeout_s=0.05)
    try:
        assert host.dropped_replies == 0
        assert host.output_confirmed_zero is True
    finally:
        close_both(host, link)


def test_a_host_waits_one_second_for_a_reply_unless_told_otherwise() -> None:
    clock = SimulatedClock()
    link = FirmwareLink(firmware_on(clock))
    host = SerialDevice(clock, HOME, link)
    try:
        host.apply(Command(STEADY, expires_after_s=2.0))
        link.to_device.fates.append("drop")
        host.stop()
        # waiting the whole second, the host also hears the firmware's watchdog end output
        faults = {f.code: f for f in host.drain_faults()}
        assert set(faults) == {FaultCode.WATCHDOG, FaultCode.DRIVER_ERROR}
        assert faults[FaultCode.DRIVER_ERROR].detail["error"].endswith("within 1 s")
    finally:
        close_both(host, link)
