"""Message bodies: each field reaches the other side as sent, in the layout of
docs/serial-protocol.md, and times go over the wire as whole microseconds."""

from __future__ import annotations

import math
import struct

import pytest

from microamp.devices.base import TelemetryFrame
from microamp.devices.wire import (
    ACK_BODY,
    COMMAND_BODY,
    FAULT_BODY,
    FAULT_CODES,
    MAX_FRAME_BYTES,
    NACK_HEAD,
    Message,
    MsgType,
    NackReason,
    ack_body,
    command_body,
    fault_body,
    fault_from_body,
    nack_body,
    nack_parts,
    payload_crc,
    reply_echo,
    telemetry_body,
    telemetry_frame,
)
from microamp.safety.faults import Fault, FaultCode
from microamp.stimulus.waveform import POLARITIES, SHAPES, Waveform

# values a float32 holds exactly, so a round trip compares with ==
FRAME = TelemetryFrame(
    t_s=1.25,
    commanded_ua=200.5,
    delivered_ua=180.25,
    peak_ua=310.75,
    voltage_v=4.5,
    impedance_ohm=15000.0,
    flags=frozenset(),
    window_s=0.01,
)


def _telemetry_with(**changes: object) -> TelemetryFrame:
    fields = {
        "t_s": FRAME.t_s,
        "commanded_ua": FRAME.commanded_ua,
        "delivered_ua": FRAME.delivered_ua,
        "peak_ua": FRAME.peak_ua,
        "voltage_v": FRAME.voltage_v,
        "impedance_ohm": FRAME.impedance_ohm,
        "flags": FRAME.flags,
        "window_s": FRAME.window_s,
    }
    fields.update(changes)
    return TelemetryFrame(**fields)  # type: ignore[arg-type]


def test_a_telemetry_frame_reaches_the_host_field_for_field() -> None:
    got = telemetry_frame(telemetry_body(FRAME))
    assert got == FRAME


def test_telemetry_fields_sit_where_the_protocol_puts_them() -> None:
    body = telemetry_body(_telemetry_with(flags=frozenset({"compliance"})))
    assert len(body) == 33
    assert struct.unpack_from("<Q", body, 0) == (1_250_000,)
    assert struct.unpack_from("<fffff", body, 8) == (200.5, 180.25, 310.75, 4.5, 15000.0)
    assert struct.unpack_from("<I", body, 28) == (10_000,)
    assert body[32] == 2


@pytest.mark.parametrize(
    ("flags", "bits"),
    [
        (frozenset(), 0),
        (frozenset({"open_circuit"}), 1),
        (frozenset({"compliance"}), 2),
        (frozenset({"unmeasured"}), 4),
        (frozenset({"open_circuit", "compliance", "unmeasured"}), 7),
    ],
)
def test_each_telemetry_flag_is_its_own_bit_both_ways(flags: frozenset[str], bits: int) -> None:
    body = telemetry_body(_telemetry_with(flags=flags))
    assert body[-1] == bits
    assert telemetry_frame(body).flags == flags


def test_a_flag_the_wire_has_no_bit_for_is_not_sent() -> None:
    body = telemetry_body(_telemetry_with(flags=frozenset({"open_circuit", "saturated"})))
    assert body[-1] == 1


def test_telemetry_times_are_moved_by_the_offset_on_each_side() -> None:
    # the firmware adds its clock's offset when it sends, the host its own when it reads
    body = telemetry_body(FRAME, offset_s=2.0)
    assert struct.unpack_from("<Q", body, 0) == (3_250_000,)
    got = telemetry_frame(body, offset_s=10.5)
    assert got.t_s == 13.75
    assert got.window_s == 0.01  # a window is a length, never moved


def test_open_circuit_and_idle_impedances_cross_the_wire() -> None:
    assert telemetry_frame(
        telemetry_body(_telemetry_with(impedance_ohm=math.inf))
    ).impedance_ohm == (math.inf)
    assert math.isnan(
        telemetry_frame(telemetry_body(_telemetry_with(impedance_ohm=math.nan))).impedance_ohm
    )


@pytest.mark.parametrize("code", FAULT_CODES)
def test_every_fault_code_crosses_the_wire_with_its_times(code: FaultCode) -> None:
    fault = Fault.of(code, onset_t_s=1.5, detected_t_s=1.501, zero_t_s=1.502)
    got = fault_from_body(fault_body(fault))
    assert got == fault


def test_fault_codes_go_by_their_place_in_the_table() -> None:
    for number, code in enumerate(FAULT_CODES):
        assert fault_body(Fault.of(code))[0] == number


def test_fault_times_are_whole_microseconds_moved_by_the_offset() -> None:
    fault = Fault.of(FaultCode.CONTACT_LOST, onset_t_s=2.0, detected_t_s=2.25, zero_t_s=2.5)
    _code, onset, detected, zero = FAULT_BODY.unpack(fault_body(fault))
    assert (onset, detected, zero) == (2_000_000, 2_250_000, 2_500_000)
    got = fault_from_body(fault_body(fault), offset_s=100.0)
    assert (got.onset_t_s, got.detected_t_s, got.zero_t_s) == (102.0, 102.25, 102.5)


@pytest.mark.parametrize("t_s", [None, -0.001, math.nan, math.inf, -math.inf])
def test_an_unknown_or_impossible_time_goes_over_the_wire_as_zero(t_s: float | None) -> None:
    fault = Fault.of(FaultCode.WATCHDOG, onset_t_s=t_s, detected_t_s=t_s, zero_t_s=t_s)
    assert FAULT_BODY.unpack(fault_body(fault))[1:] == (0, 0, 0)


def test_times_are_rounded_to_the_nearest_microsecond() -> None:
    fault = Fault.of(FaultCode.WATCHDOG, onset_t_s=0.0, detected_t_s=1.0000006, zero_t_s=1.0000004)
    assert FAULT_BODY.unpack(fault_body(fault))[1:] == (0, 1_000_001, 1_000_000)


def test_every_fault_the_host_knows_has_a_wire_code() -> None:
    # a code missing from the table would reach the host as a driver error, not as itself
    assert set(FAULT_CODES) == set(FaultCode)
    assert len(FAULT_CODES) == len(set(FAULT_CODES))


def test_the_last_fault_code_of_the_table_is_read_as_itself() -> None:
    body = FAULT_BODY.pack(len(FAULT_CODES) - 1, 0, 0, 0)
    assert fault_from_body(body).code is FAULT_CODES[-1]


@pytest.mark.parametrize("number", [len(FAULT_CODES), 255])
def test_a_fault_code_past_the_table_is_a_driver_error_naming_it(number: int) -> None:
    got = fault_from_body(FAULT_BODY.pack(number, 5_000_000, 5_000_000, 5_000_000))
    assert got.code is FaultCode.DRIVER_ERROR
    assert got.detail == {"error": f"unknown fault code {number}"}


REQUEST = Message(MsgType.COMMAND, 0x1_0007, b"\x01\x02\x03")


def test_an_ack_names_its_request_by_number_type_and_crc() -> None:
    body = ack_body(REQUEST)
    assert ACK_BODY.unpack(body) == (0x0007, MsgType.COMMAND, payload_crc(REQUEST))
    assert reply_echo(body) == (0x0007, MsgType.COMMAND, payload_crc(REQUEST))


def test_a_reply_too_short_to_name_a_request_names_none() -> None:
    body = ack_body(REQUEST)
    assert reply_echo(body[: ACK_BODY.size - 1]) is None
    assert reply_echo(b"") is None


def test_a_nack_names_its_request_as_an_ack_does() -> None:
    body = nack_body(REQUEST, NackReason.OUT_OF_RANGE, "amplitude_ua", "600", "too high")
    assert reply_echo(body) == (0x0007, MsgType.COMMAND, payload_crc(REQUEST))
    assert NACK_HEAD.unpack_from(body) == (
        0x0007,
        MsgType.COMMAND,
        payload_crc(REQUEST),
        NackReason.OUT_OF_RANGE,
    )


def test_a_nack_carries_its_reason_and_the_refused_field_value_and_rule() -> None:
    body = nack_body(
        REQUEST, NackReason.OUT_OF_RANGE, "amplitude_ua", "600", "the soft limit is 400 µA"
    )
    assert body[NACK_HEAD.size :] == "amplitude_ua\x1f600\x1fthe soft limit is 400 µA".encode()
    assert nack_parts(body) == (
        0x0007,
        NackReason.OUT_OF_RANGE,
        "amplitude_ua",
        "600",
        "the soft limit is 400 µA",
    )


@pytest.mark.parametrize("reason", list(NackReason))
def test_a_nack_without_text_reads_as_empty_field_value_and_rule(reason: NackReason) -> None:
    assert nack_parts(nack_body(REQUEST, reason)) == (0x0007, reason, "", "", "")


def test_a_nack_from_a_device_that_sends_only_a_field_reads_the_rest_as_empty() -> None:
    body = NACK_HEAD.pack(3, MsgType.COMMAND, 0xBEEF, NackReason.OUT_OF_RANGE) + b"duty"
    assert nack_parts(body) == (3, NackReason.OUT_OF_RANGE, "duty", "", "")


def test_a_nack_text_is_cut_to_fit_one_frame() -> None:
    body = nack_body(REQUEST, NackReason.OUT_OF_RANGE, "f", "v", "r" * 1000)
    assert len(body) == NACK_HEAD.size + MAX_FRAME_BYTES - 16
    assert nack_parts(body)[4] == "r" * (MAX_FRAME_BYTES - 16 - 4)


def test_a_nack_text_cut_inside_a_character_is_still_read() -> None:
    # the cut counts bytes: a multi-byte character at the edge is split, and must not raise
    body = nack_body(REQUEST, NackReason.OUT_OF_RANGE, "fx", "v", "µ" * 200)
    rule = nack_parts(body)[4]
    assert rule == "µ" * 117 + "\ufffd"


def _waveform() -> Waveform:
    return Waveform(amplitude_ua=200.0, frequency_hz=0.5)


def test_a_command_carries_its_expiry_in_milliseconds_within_sixteen_bits() -> None:
    expiry_ms = [
        COMMAND_BODY.unpack(command_body(_waveform(), 1.0, expires_s))[-1]
        for expires_s in (0.25, 0.0004, 0.0006, 65.535, 70.0, -1.0)
    ]
    assert expiry_ms == [250, 0, 1, 0xFFFF, 0xFFFF, 0]


def test_a_command_without_bursts_sends_zero_burst_times() -> None:
    fields = COMMAND_BODY.unpack(command_body(_waveform(), 0.5, 0.25))
    assert fields[8:11] == (0.0, 0.0, 0.5)


def test_a_command_carries_every_field_of_its_waveform_in_the_protocols_order() -> None:
    waveform = Waveform(
        shape="triangle",
        amplitude_ua=150.0,
        frequency_hz=30.0,
        duty=0.25,
        polarity="negative",
        reversal_s=1.5,
        rise_s=0.125,
        phase_us=250.0,
        burst_on_s=0.5,
        burst_off_s=0.75,
    )
    fields = COMMAND_BODY.unpack(command_body(waveform, 0.625, 2.0))
    assert fields == (
        SHAPES.index("triangle"),
        POLARITIES.index("negative"),
        150.0,
        30.0,
        0.25,
        1.5,
        0.125,
        250.0,
        0.5,
        0.75,
        0.625,
        2000,
    )
