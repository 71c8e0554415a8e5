"""`SerialDevice`, the ``serial`` backend: a firmware that renders itself, over pyserial.

``serial:///dev/ttyACM0?baud=115200`` speaks docs/serial-protocol.md: HELLO for capabilities,
COMMAND answered by ACK or by a NACK that names field, value and rule (raised here as
`InvalidValue`, the command in force unchanged), HEARTBEAT to renew the command it names, STOP,
and a stream of TELEMETRY and FAULT messages. On every connect the host writes the profile's
maximum amplitude into the firmware as its soft limit, so the firmware refuses what the host would.
Device times are mapped onto the host clock with the offset taken at HELLO, so frames and faults
share one time line with the host.

The wire is exact: one request is outstanding at a time, and only the reply that echoes its
sequence number, type and CRC answers it; every other reply (a duplicate, a late one, one from
before the numbers wrapped) is dropped, and a device message not ahead of the last one is too. A
request not acknowledged within ``reply_timeout_s`` is a fault: the host sends STOP, records it,
and the firmware's watchdog is the backstop. The host keeps the firmware's timers itself (the
command's expiry from when it was sent, the watchdog from the last message sent) and counts
output as zero from the moment the firmware would, whether or not its FAULT arrives.

A lost link (the port errors or reads nothing where data was promised) is a ``disconnected``
fault; the firmware's own watchdog takes output to zero at most ``watchdog_s`` after the last
message it heard, and the fault's ``zero_t_s`` says so.
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any, ClassVar, Protocol

import numpy as np

from microamp.clock import Clock
from microamp.devices.base import Capabilities, Command, Device, TelemetryFrame
from microamp.devices.urls import DeviceURL
from microamp.devices.wire import (
    CAPS_BODY,
    HEARTBEAT_BODY,
    LIMIT_BODY,
    LIMITS_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    NackReason,
    command_body,
    crc16,
    encode,
    fault_from_body,
    nack_parts,
    payload_crc,
    reply_echo,
    seq_ahead,
    telemetry_frame,
)
from microamp.errors import DeviceError, InvalidValue
from microamp.safety.commanded import CommandedCharge
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile

__all__ = ["SerialDevice"]

# The host counts a firmware timer as run out this much before the firmware does, so that it
# never believes in output the firmware has already zeroed.
EARLY_S = 0.001
# How long the host waits between reads while a reply is due.
POLL_S = 0.001


class Port(Protocol):
    """What the driver needs of a serial port (pyserial's ``Serial`` has it)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class SerialDevice(Device):
    """A device on a serial port (see the module docstring). ``port`` is an open port."""

    backend: ClassVar[str] = "serial"

    def __init__(
        self,
        clock: Clock,
        profile: LimitProfile,
        port: Port,
        *,
        reply_timeout_s: float = 1.0,
        first_seq: int = 0,
    ) -> None:
        super().__init__(clock, profile)
        self._port = port
        self._reader = FrameReader()
        self._seq = first_seq & 0xFFFF
        self._timeout_s = reply_timeout_s
        self._frames: list[TelemetryFrame] = []
        self._awaiting: tuple[int, int, int] | None = None
        self._reply: Message | None = None
        self._device_seq: int | None = None
        self._command_crc: int | None = None
        self._renewed_s = self._sent_s = self._last_sent_s = clock.now()
        self._linked = True
        self.dropped_replies = 0
        self.zero_confirmed = True
        self.watchdog_s = 0.25
        # device time -> host time; unknown until HELLO is answered, and telemetry read before
        # then (a firmware another host used streams from the start) waits for it as raw bodies
        self._offset_s: float | None = None
        self._early_bodies: list[bytes] = []
        hello_s = clock.now()
        try:
            self._caps, self.soft_limit_ua, self.watchdog_s, offset_s = self._hello()
            self._take_offset(offset_s, since_s=hello_s)
            self._write_profile_limits(profile)
        except Exception:
            self.close()
            raise

    @classmethod
    def from_url(cls, url: DeviceURL, *, clock: Clock, profile: LimitProfile) -> SerialDevice:
        import serial

        baud = url.integer("baud", 115_200, low=300, high=4_000_000)
        timeout_s = url.number("timeout_s", 1.0, low=0.01, high=30.0)
        url.finish()
        if not url.location:
            raise InvalidValue("url", url.url, "name the port: serial:///dev/ttyACM0")
        try:
            port = serial.Serial(url.location, baudrate=baud, timeout=0, write_timeout=1.0)
        except serial.SerialException as exc:
            raise DeviceError(f"cannot open {url.location}: {exc}") from None
        port.reset_input_buffer()
        device = cls(clock, profile, port, reply_timeout_s=timeout_s)
        # the firmware renders its own output: the host keeps the net-charge account
        device.commanded_charge = CommandedCharge(profile)
        return device

    @classmethod
    def availability(cls) -> str | None:
        for module in ("serial", "cobs"):
            if importlib.util.find_spec(module) is None:
                return f"the Python package {module!r} is missing: pip install microamp"
        return None

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    @property
    def output_confirmed_zero(self) -> bool:
        """True when no command is in force and the firmware said so (a STOP's ACK, a FAULT).

        False while a command is in force, and after a STOP that went unacknowledged: then only
        the firmware's watchdog, ``watchdog_s`` after the last message it heard, is sure to zero.
        """
        return self._command is None and self.zero_confirmed

    # -- requests ------------------------------------------------------------------------------

    def set_soft_limit(
        self, limit_ua: float, frequency_range_hz: tuple[float, float] | None = None
    ) -> None:
        """Store a soft upper limit (µA), and a frequency range, in the device.

        From now on it refuses commands above the limit or outside the range (without a range,
        its whole hardware range). Raises `InvalidValue` when the device refuses them.
        """
        self._check_open()
        if frequency_range_hz is None:
            self._exchange(MsgType.SET_LIMIT, LIMIT_BODY.pack(limit_ua))
        else:
            self._exchange(MsgType.SET_LIMIT, LIMITS_BODY.pack(limit_ua, *frequency_range_hz))
        self.soft_limit_ua = float(limit_ua)

    def _write_profile_limits(self, profile: LimitProfile) -> None:
        """The profile's bounds, within the hardware's, as the firmware's soft limits."""
        caps = self._caps
        low_hz = max(profile.min_frequency_hz.value, caps.min_frequency_hz)
        high_hz = min(profile.max_frequency_hz.value, caps.max_frequency_hz)
        limit_ua = min(profile.max_amplitude_ua.value, caps.max_current_ua)
        self.set_soft_limit(limit_ua, (low_hz, high_hz))

    def _hello(self) -> tuple[Capabilities, float, float, float]:
        reply = self._exchange(MsgType.HELLO)
        if reply.type != MsgType.CAPS or not reply.body:
            raise DeviceError("the device did not answer HELLO with its capabilities")
        # the version first: an older body is laid out differently (version 2 has no step)
        if reply.body[0] != PROTOCOL_VERSION:
            raise DeviceError(
                f"the device speaks protocol {reply.body[0]}, this host {PROTOCOL_VERSION}"
            )
        if len(reply.body) < CAPS_BODY.size:
            raise DeviceError("the device did not answer HELLO with its capabilities")
        (_version, max_ua, compliance_v, channels, area_cm2, min_hz, max_hz, soft_ua, watchdog_ms,
         t_us, step_ua) = CAPS_BODY.unpack_from(reply.body)  # fmt: skip
        if not (math.isfinite(step_ua) and step_ua >= 0.0):
            # a step the host cannot read is never taken as a fine one
            raise DeviceError(f"the device declares an output step of {step_ua} µA")
        caps = Capabilities(
            backend="serial",
            max_current_ua=_f32(max_ua),
            compliance_v=_f32(compliance_v),
            channels=channels,
            electrode_area_cm2=_f32(area_cm2),
            min_frequency_hz=_f32(min_hz),
            max_frequency_hz=_f32(max_hz),
            model=reply.body[CAPS_BODY.size :].decode("utf-8", "replace"),
            current_step_ua=_f32(step_ua),
        )
        return caps, _f32(soft_ua), watchdog_ms / 1000, self.clock.now() - t_us / 1e6

    def _take_offset(self, offset_s: float, *, since_s: float) -> None:
        """Put the telemetry read while the offset was unknown on this host's time line, and
        keep only what was measured from ``since_s`` (this host's HELLO) on: frames the firmware
        queued for an earlier host are not this host's output."""
        self._offset_s = offset_s
        early = (telemetry_frame(body, offset_s) for body in self._early_bodies)
        self._frames.extend(frame for frame in early if frame.t_s >= since_s)
        self._early_bodies.clear()

    def _apply(self, command: Command) -> None:
        body = command_body(command.waveform, command.intensity, command.expires_after_s)
        self.zero_confirmed = False  # from the moment it is sent, the command may be running
        self._exchange(MsgType.COMMAND, body)
        self._command_crc = crc16(body)
        self._renewed_s = self._sent_s

    def _heartbeat(self) -> None:
        if self._command_crc is None:
            return
        try:
            self._exchange(MsgType.HEARTBEAT, HEARTBEAT_BODY.pack(self._command_crc))
        except DeviceError:
            if self._command_crc is None or not self._linked:
                # the device's own FAULT crossed this heartbeat on the wire (the command ended
                # there, output is zero and the fault recorded), or the link went while the
                # heartbeat awaited its ACK (recorded as disconnected; the device's watchdog
                # zeroes output): the unanswered heartbeat that follows either is no driver error
                return
            raise
        self._renewed_s = self._sent_s

    def _stop(self) -> None:
        self._command_crc = None
        if not self._linked:
            return
        try:
            self._exchange(MsgType.STOP)
            self.zero_confirmed = True
        except DeviceError as exc:
            if self._linked:
                self._raise_fault(self._unconfirmed_stop(exc))
            # else the link is gone: recorded as disconnected; the device's watchdog zeroes it

    def _advance(self) -> None:
        self._pump()
        self._check_timers()

    def _read(self) -> list[TelemetryFrame]:
        frames, self._frames = self._frames, []
        return frames

    def _close(self) -> None:
        self._port.close()

    # -- the firmware's timers, kept on this side ----------------------------------------------

    def _check_timers(self) -> None:
        """Count output as zero when the firmware's expiry or watchdog has run out."""
        command = self._command
        if command is None:
            return
        expiry_s = self._renewed_s + command.expires_after_s
        watchdog_s = self._last_sent_s + self.watchdog_s
        lapse_s = min(expiry_s, watchdog_s)
        now = self.clock.now()
        if now < lapse_s - EARLY_S:
            return
        code = FaultCode.COMMAND_EXPIRED if expiry_s <= watchdog_s else FaultCode.WATCHDOG
        self._raise_fault(
            Fault.of(code, onset_t_s=lapse_s, detected_t_s=now, zero_t_s=min(now, lapse_s))
        )
        self._stop()  # the firmware zeroes on its own; STOP makes sure of it

    def _unconfirmed_stop(self, exc: DeviceError) -> Fault:
        now = self.clock.now()
        return Fault.of(
            FaultCode.DRIVER_ERROR,
            detected_t_s=now,
            zero_t_s=self._last_sent_s + self.watchdog_s,
            detail={
                "error": f"STOP was not acknowledged: {exc}",
                "zero": f"by the device's watchdog, at most {self.watchdog_s:g} s "
                "after the last message it heard",
            },
        )

    # -- the link ------------------------------------------------------------------------------

    def _send(self, kind: MsgType, body: bytes = b"") -> Message:
        if not self._linked:
            raise DeviceError("the serial device is disconnected")
        self._seq = (self._seq + 1) & 0xFFFF
        message = Message(kind, self._seq, body)
        try:
            self._port.write(encode(message))
        except Exception as exc:
            self._lose_link(exc)
            raise DeviceError(f"the serial link failed: {exc}") from None
        self._sent_s = self._last_sent_s = self.clock.now()
        return message

    def _exchange(self, kind: MsgType, body: bytes = b"") -> Message:
        """Send and wait for the reply to exactly this message; a NACK raises, naming why."""
        request = self._send(kind, body)
        self._awaiting = (request.seq, request.type, payload_crc(request))
        self._reply = None
        deadline_s = self.clock.now() + self._timeout_s
        try:
            while self._reply is None:
                if not self._linked:
                    # the link went while we waited (recorded as disconnected): no reply can come
                    raise DeviceError(
                        f"the serial link was lost awaiting the acknowledgement of {kind.name} "
                        f"(seq {request.seq})"
                    )
                if self.clock.now() > deadline_s:
                    raise DeviceError(
                        f"the device did not acknowledge {kind.name} (seq {request.seq}) "
                        f"within {self._timeout_s:g} s"
                    )
                if not self._pump():
                    self.clock.sleep(POLL_S)
            reply = self._reply
        finally:
            self._awaiting = None
            self._reply = None
        if reply.type == MsgType.NACK:
            _, reason, field, value, rule = nack_parts(reply.body)
            if reason == NackReason.OUT_OF_RANGE:
                raise InvalidValue(field, _number(value), f"{rule} (refused by the device)")
            raise DeviceError(
                f"the device refused {kind.name}: {NackReason(reason).name.lower()} {rule}"
            )
        return reply

    def _pump(self) -> bool:
        """Read what has arrived and sort it; True if anything did."""
        if not self._linked:
            return False
        try:
            # read even when nothing waits: that is how a hung-up port shows itself
            data = self._port.read(max(1, self._port.in_waiting))
        except Exception as exc:
            self._lose_link(exc)
            return False
        for message in self._reader.feed(data):
            self._sort(message)
        return bool(data)

    def _sort(self, message: Message) -> None:
        if message.type == MsgType.CAPS:
            # CAPS carries the HELLO's number, not one of the device's own
            self._take_reply(message, (message.seq, MsgType.HELLO))
            return
        if not seq_ahead(message.seq, self._device_seq):
            self.dropped_replies += 1  # a duplicate or a late message: it says nothing new
            return
        self._device_seq = message.seq
        if message.type == MsgType.TELEMETRY:
            if self._offset_s is None:
                self._early_bodies.append(message.body)
            else:
                self._frames.append(telemetry_frame(message.body, self._offset_s))
        elif message.type == MsgType.FAULT:
            self._command_crc = None
            self.zero_confirmed = True
            # before HELLO is answered there is no offset: such a fault keeps the device's own time
            offset_s = self._offset_s if self._offset_s is not None else 0.0
            self._raise_fault(fault_from_body(message.body, offset_s))
        elif message.type in (MsgType.ACK, MsgType.NACK):
            echo = reply_echo(message.body)
            if echo is not None:
                self._take_reply(message, echo)

    def _take_reply(self, message: Message, echo: tuple[int, ...]) -> None:
        awaiting = self._awaiting
        if awaiting is not None and echo == awaiting[: len(echo)] and self._reply is None:
            self._reply = message
        else:
            self.dropped_replies += 1

    def _lose_link(self, exc: Exception) -> None:
        if not self._linked:
            return
        self._linked = False
        detail: dict[str, Any] = {
            "error": f"{type(exc).__name__}: {exc}",
            "zero": f"by the device's watchdog, at most {self.watchdog_s:g} s "
            "after the last message it heard",
        }
        self._raise_fault(
            Fault.of(
                FaultCode.DISCONNECTED,
                onset_t_s=self.clock.now(),
                detected_t_s=self.clock.now(),
                zero_t_s=self._last_sent_s + self.watchdog_s,
                detail=detail,
            )
        )


def _f32(value: float) -> float:
    """A float32 off the wire as the shortest decimal that is that float32 (0.1, not
    0.10000000149). Fixed digits would not do: 7 of them can name a neighbouring float32, and a
    maximum written back that way lands one step above the device's own, which it refuses."""
    return float(str(np.float32(value)))


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
