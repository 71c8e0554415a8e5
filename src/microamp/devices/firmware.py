"""`Firmware`: the microcontroller side of the serial protocol, on any clock and any byte link.

Bytes from the host go in through `receive`; `tick` renders with the ``sim`` physics, reports
telemetry and faults and runs the watchdog; `take_output` hands over the bytes for the host. The
`FirmwareEmulator` serves it on a pseudo-terminal on the wall clock; tests drive it on a
simulated clock through a link of their own.

Like firmware it trusts nothing from the host: a command with any value out of range, or above
the soft limit, is refused whole with a NACK naming field, value and rule, and changes nothing.
A message whose sequence number is not ahead of the last one accepted (a duplicate, a late
frame) is dropped unanswered: it cannot replay an old command. A HEARTBEAT names the command it
renews by its CRC; one for any other command zeroes output and is refused. Every reply echoes the
request's sequence number, type and CRC. The watchdog zeroes output when no valid message has
come for ``watchdog_s``. Every event is one JSON line in the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from microamp.clock import Clock
from microamp.devices.base import Command
from microamp.devices.sim import SimDevice
from microamp.devices.wire import (
    CAPS_BODY,
    COMMAND_BODY,
    HEARTBEAT_BODY,
    LIMIT_BODY,
    LIMITS_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    NackReason,
    ack_body,
    crc16,
    encode,
    fault_body,
    nack_body,
    seq_ahead,
    telemetry_body,
)
from microamp.errors import InvalidValue, format_value
from microamp.safety.faults import Fault, FaultCode
from microamp.stimulus.waveform import POLARITIES, SHAPES, Waveform

__all__ = ["WATCHDOG_S", "Firmware"]

WATCHDOG_S = 0.25


class Firmware:
    """The device end of the protocol (see the module docstring), rendering through ``sim``."""

    def __init__(
        self,
        sim: SimDevice,
        clock: Clock,
        *,
        log: TextIO | None = None,
        state_path: Path | None = None,
        watchdog_s: float = WATCHDOG_S,
        first_seq: int = 0,
    ) -> None:
        self.sim = sim
        self.clock = clock
        self.watchdog_s = watchdog_s
        self.state_path = state_path
        self._log = log
        self.soft_limit_ua, self.soft_range_hz = self._load_limits()
        self._reader = FrameReader()
        self._seq = first_seq & 0xFFFF
        self._host_seq: int | None = None
        self._command_crc: int | None = None
        self.host_seen_s: float | None = None
        self.link_closed = False
        self.dropped_stale = 0
        self._out = bytearray()

    # -- the link ------------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Act on bytes from the host (any split of the stream)."""
        for message in self._reader.feed(data):
            self._handle(message)

    def take_output(self) -> bytes:
        """Every byte for the host since the last call."""
        data, self._out = bytes(self._out), bytearray()
        return data

    @property
    def command_crc(self) -> int | None:
        """The CRC of the COMMAND body in force, None while output is off."""
        return self._command_crc if self.sim.command is not None else None

    def _send(self, kind: MsgType, body: bytes = b"", *, seq: int | None = None) -> None:
        if self.link_closed:
            return
        if seq is None:
            self._seq = (self._seq + 1) & 0xFFFF
            seq = self._seq
        self._out += encode(Message(kind, seq, body))

    # -- messages ------------------------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        if message.type == MsgType.HELLO:
            self._host_seq = message.seq
        elif seq_ahead(message.seq, self._host_seq):
            self._host_seq = message.seq
        else:
            self.dropped_stale += 1
            self.log("stale", seq=message.seq, type=message.type, last_seq=self._host_seq)
            return
        self.host_seen_s = self.clock.now()
        handlers = {
            MsgType.HELLO: self._on_hello,
            MsgType.SET_LIMIT: self._on_limit,
            MsgType.COMMAND: self._on_command,
            MsgType.HEARTBEAT: self._on_heartbeat,
            MsgType.STOP: self._on_stop,
        }
        handler = handlers.get(message.type)  # type: ignore[call-overload]
        if handler is None:
            self._nack(message, NackReason.UNKNOWN_TYPE, "type", str(message.type), "unknown")
            return
        handler(message)

    def _ack(self, request: Message) -> None:
        self._send(MsgType.ACK, ack_body(request))

    def _nack(
        self, request: Message, reason: NackReason, field: str, value: str, rule: str
    ) -> None:
        self.log(
            "nack", seq=request.seq, reason=reason.name.lower(), field=field, value=value, rule=rule
        )
        self._send(MsgType.NACK, nack_body(request, reason, field, value, rule))

    def _on_hello(self, message: Message) -> None:
        # a new host session: nothing it did not command itself may stay on
        self.zero("hello")
        caps = self.sim.capabilities
        body = CAPS_BODY.pack(
            PROTOCOL_VERSION,
            caps.max_current_ua,
            caps.compliance_v,
            caps.channels,
            caps.electrode_area_cm2,
            caps.min_frequency_hz,
            caps.max_frequency_hz,
            self.soft_limit_ua,
            round(self.watchdog_s * 1000),
            round(self.clock.now() * 1e6),
            caps.current_step_ua,
        )
        self.log("hello", seq=message.seq)
        self._send(MsgType.CAPS, body + b"microamp firmware emulator", seq=message.seq)

    def _on_limit(self, message: Message) -> None:
        max_ua, full_range_hz = self._declared_bounds()
        if len(message.body) == LIMIT_BODY.size:
            (limit_ua,), range_hz = LIMIT_BODY.unpack(message.body), full_range_hz
        elif len(message.body) == LIMITS_BODY.size:
            limit_ua, low_hz, high_hz = LIMITS_BODY.unpack(message.body)
            range_hz = (low_hz, high_hz)
        else:
            self._nack(message, NackReason.BAD_FRAME, "body", str(len(message.body)), "size")
            return
        refusal = _limits_refusal(limit_ua, range_hz, max_ua, full_range_hz)
        if refusal is not None:
            self._nack(message, NackReason.OUT_OF_RANGE, *refusal)
            return
        self.soft_limit_ua = float(limit_ua)
        self.soft_range_hz = (float(range_hz[0]), float(range_hz[1]))
        self._save_limits()
        self.log("limit", soft_limit_ua=self.soft_limit_ua, soft_range_hz=self.soft_range_hz)
        self._ack(message)

    def _on_command(self, message: Message) -> None:
        try:
            command = parse_command(message.body)
            if command.commanded_ua > self.soft_limit_ua:
                raise InvalidValue(
                    "amplitude_ua",
                    command.commanded_ua,
                    f"the device's soft limit is {self.soft_limit_ua:g} µA",
                )
            low_hz, high_hz = self.soft_range_hz
            if not low_hz <= command.waveform.frequency_hz <= high_hz:
                raise InvalidValue(
                    "frequency_hz",
                    command.waveform.frequency_hz,
                    f"the device's soft range is {low_hz:g}-{high_hz:g} Hz",
                )
            self.sim.apply(command)
        except InvalidValue as exc:
            self._nack(
                message, NackReason.OUT_OF_RANGE, exc.field, format_value(exc.value), exc.rule
            )
            return
        self._command_crc = crc16(message.body)
        self.log(
            "command",
            seq=message.seq,
            commanded_ua=command.commanded_ua,
            waveform=command.waveform.to_dict(),
        )
        self._ack(message)

    def _on_heartbeat(self, message: Message) -> None:
        if len(message.body) != HEARTBEAT_BODY.size:
            self._nack(message, NackReason.BAD_FRAME, "body", str(len(message.body)), "size")
            return
        (named_crc,) = HEARTBEAT_BODY.unpack(message.body)
        in_force = self.command_crc
        if in_force is None or named_crc != in_force:
            # host and device disagree on what is on: the safe state is off
            self.zero("heartbeat_mismatch")
            self._nack(
                message,
                NackReason.NOT_READY,
                "command_crc",
                str(named_crc),
                "the heartbeat names a command that is not in force",
            )
            return
        self.sim.heartbeat()
        self._ack(message)

    def _on_stop(self, message: Message) -> None:
        self.zero("stop")
        self._ack(message)

    # -- output --------------------------------------------------------------------------------

    def tick(self) -> None:
        """Render up to the clock's present, report, and run the watchdog."""
        frames = self.sim.poll()
        if self.host_seen_s is not None:
            for frame in frames:
                self._send(MsgType.TELEMETRY, telemetry_body(frame))
        for fault in self.sim.drain_faults():
            self._report(fault)
        self._watchdog()

    def _report(self, fault: Fault) -> None:
        self.log(
            "output_zero",
            reason=str(fault.code),
            t_zero_s=fault.zero_t_s,
            onset_t_s=fault.onset_t_s,
        )
        if fault.code == FaultCode.DISCONNECTED:
            self.link_closed = True
            self.log("link_closed")
            return
        self._send(MsgType.FAULT, fault_body(fault))

    def _watchdog(self) -> None:
        if self.sim.command is None or self.host_seen_s is None:
            return
        now = self.clock.now()
        silent_s = now - self.host_seen_s
        if silent_s >= self.watchdog_s:
            self.sim.stop()
            fault = Fault.of(
                FaultCode.WATCHDOG,
                onset_t_s=self.host_seen_s,
                detected_t_s=now,
                zero_t_s=now,
            )
            self.log(
                "output_zero", reason="watchdog", silent_s=silent_s, last_host_t_s=self.host_seen_s
            )
            self._send(MsgType.FAULT, fault_body(fault))

    def zero(self, reason: str, **extra: Any) -> None:
        """Output to zero now, logged if it was on."""
        was_on = self.sim.output_on
        if not self.sim.closed:
            self.sim.stop()
        if was_on:
            self.log("output_zero", reason=reason, **extra)

    def _declared_bounds(self) -> tuple[float, tuple[float, float]]:
        """The maximum current and frequency range as CAPS declares them: float32, as a real
        firmware holds them. The host writes back what it read, so a bound kept in float64
        could sit a hair below its own float32 and refuse the device's own maximum."""
        caps = self.sim.capabilities
        return _as_sent(caps.max_current_ua), (
            _as_sent(caps.min_frequency_hz),
            _as_sent(caps.max_frequency_hz),
        )

    # -- persistence and log -------------------------------------------------------------------

    def _load_limits(self) -> tuple[float, tuple[float, float]]:
        """The stored soft limits; any that is missing or unreadable is the hardware's own."""
        max_ua, full_range_hz = self._declared_bounds()
        if self.state_path is None or not self.state_path.exists():
            return max_ua, full_range_hz
        try:
            stored = json.loads(self.state_path.read_text())
            limit_ua = float(stored["soft_limit_ua"])
            low_hz, high_hz = stored.get("soft_range_hz", full_range_hz)
            range_hz = (float(low_hz), float(high_hz))
        except (OSError, ValueError, KeyError, TypeError):
            return max_ua, full_range_hz
        if _limits_refusal(limit_ua, range_hz, max_ua, full_range_hz) is not None:
            return max_ua, full_range_hz
        return limit_ua, range_hz

    def _save_limits(self) -> None:
        if self.state_path is None:
            return
        temporary = self.state_path.with_suffix(".tmp")
        state = {"soft_limit_ua": self.soft_limit_ua, "soft_range_hz": list(self.soft_range_hz)}
        temporary.write_text(json.dumps(state))
        temporary.replace(self.state_path)

    def log(self, event: str, **fields: Any) -> None:
        """One JSON line: device time, event, details."""
        if self._log is None:
            return
        record = {"t_s": round(self.clock.now(), 6), "event": event, **fields}
        self._log.write(json.dumps(record, default=str) + "\n")
        self._log.flush()


def _as_sent(value: float) -> float:
    """``value`` as the float32 it crosses the wire as."""
    return float(np.float32(value))


def _limits_refusal(
    limit_ua: float,
    range_hz: tuple[float, float],
    max_ua: float,
    full_range_hz: tuple[float, float],
) -> tuple[str, str, str] | None:
    """(field, value, rule) of the first soft limit out of range, or None. NaN fails every rule."""
    if not 0.0 < limit_ua <= max_ua:
        rule = f"must be above 0 and at most the device's {max_ua:g} µA"
        return "soft_limit_ua", format_value(limit_ua), rule
    low_hz, high_hz = range_hz
    lowest_hz, highest_hz = full_range_hz
    if not lowest_hz <= low_hz <= high_hz <= highest_hz:
        rule = f"must be a range within the device's {lowest_hz:g}-{highest_hz:g} Hz"
        return "soft_range_hz", f"{low_hz:g}-{high_hz:g}", rule
    return None


def parse_command(body: bytes) -> Command:
    """A COMMAND body as a `Command`; `InvalidValue` names the first value out of range."""
    if len(body) != COMMAND_BODY.size:
        raise InvalidValue("body", len(body), f"a command body is {COMMAND_BODY.size} bytes")
    (shape, polarity, amplitude, frequency, duty, reversal, rise, phase, burst_on, burst_off,
     intensity, expires_ms) = COMMAND_BODY.unpack(body)  # fmt: skip
    if shape >= len(SHAPES):
        raise InvalidValue("shape", shape, f"must be 0-{len(SHAPES) - 1}")
    if polarity >= len(POLARITIES):
        raise InvalidValue("polarity", polarity, f"must be 0-{len(POLARITIES) - 1}")
    waveform = Waveform(
        shape=SHAPES[shape],
        amplitude_ua=amplitude,
        frequency_hz=frequency,
        duty=duty,
        polarity=POLARITIES[polarity],
        reversal_s=reversal,
        rise_s=rise,
        phase_us=phase,
        burst_on_s=burst_on if burst_on > 0 else None,
        burst_off_s=burst_off if burst_on > 0 else None,
    )
    return Command(waveform, intensity=intensity, expires_after_s=expires_ms / 1000)
