"""The serial wire protocol's messages and framing (docs/serial-protocol.md is the reference).

A frame on the wire is ``COBS(payload + CRC16(payload)) + 0x00``; a payload is
``type:u8, seq:u16, body``, little-endian throughout. `encode` builds one frame, `FrameReader`
splits a byte stream back into `Message`s and counts frames it had to drop (bad COBS, bad CRC,
too short). A reply names the request it answers by its sequence number, type and CRC
(`ack_body`, `reply_echo`), so no reply can be taken for another request's, however the numbers
wrap; `seq_ahead` tells a new message from a duplicate or a late one. Both sides of the link (the host driver and the firmware emulator) use this module.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum

from cobs import cobs

from microamp.devices.base import TelemetryFrame
from microamp.safety.faults import Fault, FaultCode
from microamp.stimulus.waveform import POLARITIES, SHAPES, Waveform

__all__ = [
    "FAULT_CODES",
    "PROTOCOL_VERSION",
    "FrameReader",
    "Message",
    "MsgType",
    "NackReason",
    "crc16",
    "encode",
    "payload_crc",
    "reply_echo",
    "seq_ahead",
]

# 3: CAPS carries the output stage's current step; a device of an older version is refused
PROTOCOL_VERSION = 3
MAX_FRAME_BYTES = 256

# Fault codes by wire number: append only, never reorder (the firmware has the same table).
FAULT_CODES: tuple[FaultCode, ...] = (
    FaultCode.PEAK_EXCEEDED,
    FaultCode.NON_FINITE,
    FaultCode.SLEW_EXCEEDED,
    FaultCode.ENVELOPE_EXCEEDED,
    FaultCode.CHARGE_IMBALANCE,
    FaultCode.CONTACT_LOST,
    FaultCode.COMPLIANCE,
    FaultCode.CURRENT_DEVIATION,
    FaultCode.TELEMETRY_SILENT,
    FaultCode.DISCONNECTED,
    FaultCode.WATCHDOG,
    FaultCode.DRIVER_ERROR,
    FaultCode.COMMAND_EXPIRED,
    FaultCode.OPERATOR_STOP,
    FaultCode.RECORD_FAILED,
)
FLAG_BITS = {"open_circuit": 1, "compliance": 2, "unmeasured": 4}


class MsgType(IntEnum):
    HELLO = 0x01
    SET_LIMIT = 0x02
    COMMAND = 0x03
    HEARTBEAT = 0x04
    STOP = 0x05
    ACK = 0x80
    CAPS = 0x81
    TELEMETRY = 0x82
    FAULT = 0x83
    NACK = 0x8F


class NackReason(IntEnum):
    OUT_OF_RANGE = 1
    BAD_FRAME = 2
    UNKNOWN_TYPE = 3
    NOT_READY = 4


COMMAND_BODY = struct.Struct("<BBfffffffffH")
CAPS_BODY = struct.Struct("<BffBffffHQf")
TELEMETRY_BODY = struct.Struct("<QfffffIB")
FAULT_BODY = struct.Struct("<BQQQ")
LIMIT_BODY = struct.Struct("<f")
# the soft limit and a soft frequency range: SET_LIMIT carries either body
LIMITS_BODY = struct.Struct("<fff")
ACK_BODY = struct.Struct("<HBH")
NACK_HEAD = struct.Struct("<HBHB")
HEARTBEAT_BODY = struct.Struct("<H")
HEADER = struct.Struct("<BH")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as most microcontroller libraries have it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


@dataclass(frozen=True, slots=True)
class Message:
    type: int
    seq: int
    body: bytes = b""


def _payload(message: Message) -> bytes:
    return HEADER.pack(message.type, message.seq & 0xFFFF) + message.body


def payload_crc(message: Message) -> int:
    """The CRC a frame carries for ``message``: what a reply echoes to name its request."""
    return crc16(_payload(message))


def seq_ahead(seq: int, last: int | None) -> bool:
    """True if ``seq`` comes after ``last`` (serial-number arithmetic over 16 bits, RFC 1982).

    A duplicate (equal) or a late message (up to half the number space behind) is not ahead.
    """
    if last is None:
        return True
    return 0 < (seq - last) & 0xFFFF < 0x8000


def encode(message: Message) -> bytes:
    """One frame on the wire, delimiter included."""
    payload = _payload(message)
    packet = payload + struct.pack("<H", crc16(payload))
    framed: bytes = cobs.encode(packet)
    return framed + b"\x00"


class FrameReader:
    """Split a byte stream into messages; bad frames are dropped and counted, never raised."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[Message]:
        self._buffer.extend(data)
        messages: list[Message] = []
        while True:
            end = self._buffer.find(0)
            if end < 0:
                if len(self._buffer) > 4 * MAX_FRAME_BYTES:
                    self._buffer.clear()
                    self.dropped += 1
                return messages
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if raw:
                message = _decode(raw)
                if message is None:
                    self.dropped += 1
                else:
                    messages.append(message)


def _decode(raw: bytes) -> Message | None:
    try:
        packet = cobs.decode(raw)
    except cobs.DecodeError:
        return None
    if len(packet) < HEADER.size + 2:
        return None
    payload, (crc,) = packet[:-2], struct.unpack("<H", packet[-2:])
    if crc16(payload) != crc:
        return None
    kind, seq = HEADER.unpack_from(payload)
    return Message(kind, seq, payload[HEADER.size :])


# -- bodies --------------------------------------------------------------------------------------


def command_body(waveform: Waveform, intensity: float, expires_after_s: float) -> bytes:
    burst_on = waveform.burst_on_s or 0.0
    burst_off = waveform.burst_off_s or 0.0
    return COMMAND_BODY.pack(
        SHAPES.index(waveform.shape),
        POLARITIES.index(waveform.polarity),
        waveform.amplitude_ua,
        waveform.frequency_hz,
        waveform.duty,
        waveform.reversal_s,
        waveform.rise_s,
        waveform.phase_us,
        burst_on,
        burst_off,
        intensity,
        min(0xFFFF, max(0, round(expires_after_s * 1000))),
    )


def telemetry_body(frame: TelemetryFrame, offset_s: float = 0.0) -> bytes:
    flags = sum(bit for name, bit in FLAG_BITS.items() if name in frame.flags)
    return TELEMETRY_BODY.pack(
        _us(frame.t_s + offset_s),
        frame.commanded_ua,
        frame.delivered_ua,
        frame.peak_ua,
        frame.voltage_v,
        frame.impedance_ohm,
        _us(frame.window_s),
        flags,
    )


def telemetry_frame(body: bytes, offset_s: float = 0.0) -> TelemetryFrame:
    t_us, cmd, dlv, peak, volt, z, window_us, bits = TELEMETRY_BODY.unpack(body)
    flags = frozenset(name for name, bit in FLAG_BITS.items() if bits & bit)
    return TelemetryFrame(
        t_us / 1e6 + offset_s, cmd, dlv, peak, volt, z, flags, window_s=window_us / 1e6
    )


def fault_body(fault: Fault) -> bytes:
    code = fault.code if fault.code in FAULT_CODES else FaultCode.DRIVER_ERROR
    return FAULT_BODY.pack(
        FAULT_CODES.index(code),
        _us(fault.onset_t_s),
        _us(fault.detected_t_s),
        _us(fault.zero_t_s),
    )


def fault_from_body(body: bytes, offset_s: float = 0.0) -> Fault:
    code, onset, detected, zero = FAULT_BODY.unpack(body)
    if code >= len(FAULT_CODES):
        return Fault.of(FaultCode.DRIVER_ERROR, detail={"error": f"unknown fault code {code}"})
    return Fault.of(
        FAULT_CODES[code],
        onset_t_s=onset / 1e6 + offset_s,
        detected_t_s=detected / 1e6 + offset_s,
        zero_t_s=zero / 1e6 + offset_s,
    )


def ack_body(request: Message) -> bytes:
    """An ACK's body: the request's sequence number, type and CRC."""
    return ACK_BODY.pack(request.seq & 0xFFFF, request.type & 0xFF, payload_crc(request))


def nack_body(
    request: Message, reason: NackReason, field: str = "", value: str = "", rule: str = ""
) -> bytes:
    text = "\x1f".join((field, value, rule)).encode("utf-8")[: MAX_FRAME_BYTES - 16]
    head = NACK_HEAD.pack(request.seq & 0xFFFF, request.type & 0xFF, payload_crc(request), reason)
    return head + text


def reply_echo(body: bytes) -> tuple[int, int, int] | None:
    """The (seq, type, crc) of the request an ACK or NACK answers; None if the body is short."""
    if len(body) < ACK_BODY.size:
        return None
    seq, kind, crc = ACK_BODY.unpack_from(body)
    return seq, kind, crc


def nack_parts(body: bytes) -> tuple[int, int, str, str, str]:
    seq, _kind, _crc, reason = NACK_HEAD.unpack_from(body)
    parts = body[NACK_HEAD.size :].decode("utf-8", "replace").split("\x1f")
    field, value, rule = (parts + ["", "", ""])[:3]
    return seq, reason, field, value, rule


def _us(t_s: float | None) -> int:
    """Seconds to whole microseconds for the wire (u64; unknown or negative as 0)."""
    if t_s is None or not math.isfinite(t_s) or t_s < 0:
        return 0
    return round(t_s * 1e6)
