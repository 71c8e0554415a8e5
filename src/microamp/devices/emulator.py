"""`FirmwareEmulator`: the microcontroller side of the serial protocol, on a pseudo-terminal.

It serves docs/serial-protocol.md on ``os.openpty()`` and renders with the ``sim`` physics (a
`SimDevice` on the wall clock, so the same loads and injected faults apply). Like firmware it
trusts nothing from the host: a command with any value out of range is refused whole with a
NACK naming field, value and rule, and changes nothing; the soft upper limit lives in a state
file and survives restarts; a watchdog zeroes output when the host has been silent for
``watchdog_s`` (250 ms). Every event is one JSON line in the log, including when and why output
went to zero.
"""

from __future__ import annotations

import json
import os
import select
import struct
import threading
import tty
from pathlib import Path
from typing import Any, TextIO

from microamp.clock import RealClock
from microamp.devices.base import Command
from microamp.devices.registry import open_device
from microamp.devices.sim import SimDevice
from microamp.devices.wire import (
    CAPS_BODY,
    COMMAND_BODY,
    LIMIT_BODY,
    PROTOCOL_VERSION,
    FrameReader,
    Message,
    MsgType,
    NackReason,
    encode,
    fault_body,
    nack_body,
    telemetry_body,
)
from microamp.errors import InvalidValue, format_value
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.limits import get_profile
from microamp.stimulus.waveform import POLARITIES, SHAPES, Waveform

__all__ = ["FirmwareEmulator"]

WATCHDOG_S = 0.25
# How often the loop wakes with nothing to read: bounds the watchdog's lateness.
TICK_S = 0.002


class FirmwareEmulator:
    """Serve the protocol until `stop` (or `close`). ``sim_url`` sets the physics and faults."""

    def __init__(
        self,
        sim_url: str = "sim://?load=gel",
        *,
        log: TextIO | None = None,
        state_path: Path | None = None,
        watchdog_s: float = WATCHDOG_S,
    ) -> None:
        self.clock = RealClock()
        device = open_device(sim_url, clock=self.clock, profile=get_profile("professional"))
        if not isinstance(device, SimDevice):
            device.close()
            raise InvalidValue("sim_url", sim_url, "the emulator's physics must be a sim:// URL")
        self.sim: SimDevice = device
        self.watchdog_s = watchdog_s
        self.state_path = state_path
        self.soft_limit_ua = self._load_limit()
        self._log = log
        self._reader = FrameReader()
        self._seq = 0
        self._host_seen_s: float | None = None
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._link_open = True
        self.log("serving", path=self.path, watchdog_s=watchdog_s, soft_limit_ua=self.soft_limit_ua)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FirmwareEmulator:
        """Serve on a background thread (for tests and benches)."""
        self._thread = threading.Thread(target=self.serve, name="firmware-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask `serve` to return (safe from a signal handler: it only sets a flag)."""
        self._stop_event.set()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._zero("shutdown")
        self.sim.close()
        self._close_link()
        os.close(self._slave)
        self.log("shutdown")

    def __enter__(self) -> FirmwareEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def serve(self) -> None:
        """The firmware's main loop: read, act, render, report, watch the host."""
        while not self._stop_event.is_set():
            try:
                self._step()
            except Exception as exc:
                # firmware's rule: on anything unexpected, output to zero first, then report
                self._zero("internal_error", error=f"{type(exc).__name__}: {exc}")
                raise

    def _step(self) -> None:
        if self._link_open:
            readable, _, _ = select.select([self._master], [], [], TICK_S)
            if readable:
                for message in self._reader.feed(self._read()):
                    self._handle(message)
        else:
            self._stop_event.wait(TICK_S)
        self._render()
        self._watchdog()

    # -- the link ------------------------------------------------------------------------------

    def _read(self) -> bytes:
        try:
            return os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            # EIO: no host has the port open right now; the watchdog covers a vanished host
            self._stop_event.wait(TICK_S)
            return b""

    def _send(self, kind: MsgType, body: bytes = b"", *, seq: int | None = None) -> None:
        if not self._link_open:
            return
        if seq is None:
            self._seq = (self._seq + 1) & 0xFFFF
            seq = self._seq
        try:
            os.write(self._master, encode(Message(kind, seq, body)))
        except (BlockingIOError, InterruptedError):
            pass  # nobody reads: drop, as a UART with a full buffer does
        except OSError:
            pass

    def _close_link(self) -> None:
        if self._link_open:
            self._link_open = False
            os.close(self._master)

    # -- messages ------------------------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        self._host_seen_s = self.clock.now()
        handlers = {
            MsgType.HELLO: self._on_hello,
            MsgType.SET_LIMIT: self._on_limit,
            MsgType.COMMAND: self._on_command,
            MsgType.HEARTBEAT: self._on_heartbeat,
            MsgType.STOP: self._on_stop,
        }
        handler = handlers.get(message.type)  # type: ignore[call-overload]
        if handler is None:
            self._nack(message.seq, NackReason.UNKNOWN_TYPE, "type", str(message.type), "unknown")
            return
        handler(message)

    def _ack(self, seq: int) -> None:
        self._send(MsgType.ACK, struct.pack("<H", seq))

    def _nack(self, seq: int, reason: NackReason, field: str, value: str, rule: str) -> None:
        self.log("nack", seq=seq, reason=reason.name.lower(), field=field, value=value, rule=rule)
        self._send(MsgType.NACK, nack_body(seq, reason, field, value, rule))

    def _on_hello(self, message: Message) -> None:
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
        )
        self.log("hello", seq=message.seq)
        self._send(MsgType.CAPS, body + b"microamp firmware emulator", seq=message.seq)

    def _on_limit(self, message: Message) -> None:
        if len(message.body) != LIMIT_BODY.size:
            self._nack(message.seq, NackReason.BAD_FRAME, "body", str(len(message.body)), "size")
            return
        (limit_ua,) = LIMIT_BODY.unpack(message.body)
        max_ua = self.sim.capabilities.max_current_ua
        if not 0.0 < limit_ua <= max_ua:  # NaN fails this too
            rule = f"must be above 0 and at most the device's {max_ua:g} µA"
            self._nack(
                message.seq, NackReason.OUT_OF_RANGE, "soft_limit_ua", format_value(limit_ua), rule
            )
            return
        self.soft_limit_ua = float(limit_ua)
        self._save_limit()
        self.log("limit", soft_limit_ua=self.soft_limit_ua)
        self._ack(message.seq)

    def _on_command(self, message: Message) -> None:
        try:
            command = self._parse_command(message.body)
            if command.commanded_ua > self.soft_limit_ua:
                raise InvalidValue(
                    "amplitude_ua",
                    command.commanded_ua,
                    f"the device's soft limit is {self.soft_limit_ua:g} µA",
                )
            self.sim.apply(command)
        except InvalidValue as exc:
            self._nack(
                message.seq, NackReason.OUT_OF_RANGE, exc.field, format_value(exc.value), exc.rule
            )
            return
        self.log(
            "command",
            seq=message.seq,
            commanded_ua=command.commanded_ua,
            waveform=command.waveform.to_dict(),
        )
        self._ack(message.seq)

    def _parse_command(self, body: bytes) -> Command:
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

    def _on_heartbeat(self, message: Message) -> None:
        self.sim.heartbeat()
        self._ack(message.seq)

    def _on_stop(self, message: Message) -> None:
        self._zero("stop")
        self._ack(message.seq)

    # -- output --------------------------------------------------------------------------------

    def _render(self) -> None:
        frames = self.sim.poll()
        if self._host_seen_s is not None:
            for frame in frames:
                self._send(MsgType.TELEMETRY, telemetry_body(frame))
        for fault in self.sim.drain_faults():
            self._report(fault)

    def _report(self, fault: Fault) -> None:
        self.log(
            "output_zero",
            reason=str(fault.code),
            t_zero_s=fault.zero_t_s,
            onset_t_s=fault.onset_t_s,
        )
        if fault.code == FaultCode.DISCONNECTED:
            self._close_link()
            self.log("link_closed")
            return
        self._send(MsgType.FAULT, fault_body(fault))

    def _watchdog(self) -> None:
        if self.sim.command is None or self._host_seen_s is None:
            return
        now = self.clock.now()
        silent_s = now - self._host_seen_s
        if silent_s >= self.watchdog_s:
            self.sim.stop()
            fault = Fault.of(
                FaultCode.WATCHDOG,
                onset_t_s=self._host_seen_s,
                detected_t_s=now,
                zero_t_s=now,
            )
            self.log(
                "output_zero", reason="watchdog", silent_s=silent_s, last_host_t_s=self._host_seen_s
            )
            self._send(MsgType.FAULT, fault_body(fault))

    def _zero(self, reason: str, **extra: Any) -> None:
        was_on = self.sim.output_on
        if not self.sim.closed:
            self.sim.stop()
        if was_on:
            self.log("output_zero", reason=reason, **extra)

    # -- persistence and log -------------------------------------------------------------------

    def _load_limit(self) -> float:
        max_ua = self.sim.capabilities.max_current_ua
        if self.state_path is None or not self.state_path.exists():
            return max_ua
        try:
            stored = float(json.loads(self.state_path.read_text())["soft_limit_ua"])
        except (OSError, ValueError, KeyError, TypeError):
            return max_ua
        return stored if 0 < stored <= max_ua else max_ua

    def _save_limit(self) -> None:
        if self.state_path is None:
            return
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"soft_limit_ua": self.soft_limit_ua}))
        temporary.replace(self.state_path)

    def log(self, event: str, **fields: Any) -> None:
        """One JSON line: device time, event, details."""
        if self._log is None:
            return
        record = {"t_s": round(self.clock.now(), 6), "event": event, **fields}
        self._log.write(json.dumps(record, default=str) + "\n")
        self._log.flush()
