"""`SerialDevice`, the ``serial`` backend: a firmware that renders itself, over pyserial.

``serial:///dev/ttyACM0?baud=115200`` speaks docs/serial-protocol.md: HELLO for capabilities,
COMMAND answered by ACK or by a NACK that names field, value and rule (raised here as
`InvalidValue`, the command in force unchanged), HEARTBEAT to renew, STOP, and a stream of
TELEMETRY and FAULT messages. Device times are mapped onto the host clock with the offset taken
at HELLO, so frames and faults share one time line with the host.

A lost link (the port errors or reads nothing where data was promised) is a ``disconnected``
fault; the firmware's own watchdog takes output to zero at most ``watchdog_s`` after the last
message it heard, and the fault's ``zero_t_s`` says so.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, ClassVar, Protocol

from microamp.clock import Clock
from microamp.devices.base import Capabilities, Command, Device, TelemetryFrame
from microamp.devices.urls import DeviceURL
from microamp.devices.wire import (
    CAPS_BODY,
    LIMIT_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    NackReason,
    command_body,
    encode,
    fault_from_body,
    nack_parts,
    telemetry_frame,
)
from microamp.errors import DeviceError, InvalidValue
from microamp.safety.commanded import CommandedCharge
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import LimitProfile

__all__ = ["SerialDevice"]


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

    def __init__(self, clock: Clock, port: Port, *, reply_timeout_s: float = 1.0) -> None:
        super().__init__(clock)
        self._port = port
        self._reader = FrameReader()
        self._seq = 0
        self._timeout_s = reply_timeout_s
        self._frames: list[TelemetryFrame] = []
        self._replies: dict[int, Message] = {}
        self._last_sent_s = clock.now()
        self._linked = True
        self.watchdog_s = 0.25
        self._offset_s = 0.0
        try:
            self._caps, self.soft_limit_ua, self.watchdog_s, self._offset_s = self._hello()
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
        device = cls(clock, port, reply_timeout_s=timeout_s)
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

    # -- requests ------------------------------------------------------------------------------

    def set_soft_limit(self, limit_ua: float) -> None:
        """Store a soft upper limit (µA) in the device; it refuses commands above it from now on."""
        self._check_open()
        self._exchange(MsgType.SET_LIMIT, LIMIT_BODY.pack(limit_ua))
        self.soft_limit_ua = float(limit_ua)

    def _hello(self) -> tuple[Capabilities, float, float, float]:
        reply = self._exchange(MsgType.HELLO)
        if reply.type != MsgType.CAPS or len(reply.body) < CAPS_BODY.size:
            raise DeviceError("the device did not answer HELLO with its capabilities")
        (version, max_ua, compliance_v, channels, area_cm2, min_hz, max_hz, soft_ua, watchdog_ms,
         t_us) = CAPS_BODY.unpack_from(reply.body)  # fmt: skip
        if version != PROTOCOL_VERSION:
            raise DeviceError(f"the device speaks protocol {version}, this host {PROTOCOL_VERSION}")
        caps = Capabilities(
            backend="serial",
            max_current_ua=_f32(max_ua),
            compliance_v=_f32(compliance_v),
            channels=channels,
            electrode_area_cm2=_f32(area_cm2),
            min_frequency_hz=_f32(min_hz),
            max_frequency_hz=_f32(max_hz),
            model=reply.body[CAPS_BODY.size :].decode("utf-8", "replace"),
        )
        return caps, _f32(soft_ua), watchdog_ms / 1000, self.clock.now() - t_us / 1e6

    def _apply(self, command: Command) -> None:
        body = command_body(command.waveform, command.intensity, command.expires_after_s)
        self._exchange(MsgType.COMMAND, body)

    def _heartbeat(self) -> None:
        self._send(MsgType.HEARTBEAT)

    def _stop(self) -> None:
        if not self._linked:
            return
        try:
            self._send(MsgType.STOP)
        except DeviceError:
            pass  # the link is gone: recorded as disconnected; the device's watchdog zeroes it

    def _advance(self) -> None:
        self._pump()

    def _read(self) -> list[TelemetryFrame]:
        frames, self._frames = self._frames, []
        return frames

    def _close(self) -> None:
        self._port.close()

    # -- the link ------------------------------------------------------------------------------

    def _send(self, kind: MsgType, body: bytes = b"") -> int:
        if not self._linked:
            raise DeviceError("the serial device is disconnected")
        self._seq = (self._seq + 1) & 0xFFFF
        try:
            self._port.write(encode(Message(kind, self._seq, body)))
        except Exception as exc:
            self._lose_link(exc)
            raise DeviceError(f"the serial link failed: {exc}") from None
        self._last_sent_s = self.clock.now()
        return self._seq

    def _exchange(self, kind: MsgType, body: bytes = b"") -> Message:
        """Send and wait for the reply to this message; a NACK raises, naming the reason."""
        seq = self._send(kind, body)
        deadline = time.monotonic() + self._timeout_s
        while seq not in self._replies:
            if time.monotonic() > deadline:
                raise DeviceError(
                    f"the device did not answer {kind.name} within {self._timeout_s:g} s"
                )
            if not self._pump():
                time.sleep(0.001)
        reply = self._replies.pop(seq)
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
        if message.type == MsgType.TELEMETRY:
            self._frames.append(telemetry_frame(message.body, self._offset_s))
        elif message.type == MsgType.FAULT:
            self._raise_fault(fault_from_body(message.body, self._offset_s))
        elif message.type in (MsgType.ACK, MsgType.NACK):
            acked = int.from_bytes(message.body[:2], "little")
            self._replies[acked] = message
        elif message.type == MsgType.CAPS:
            self._replies[message.seq] = message

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
    """A float32 off the wire as the decimal it was sent as (0.1, not 0.10000000149)."""
    return float(f"{value:.7g}")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
