"""Framing at its edges: a stream with no delimiter, frames too short to carry a header and a
CRC, empty frames, and sequence numbers at the ends of their half of the number space."""

from __future__ import annotations

import struct

from cobs import cobs

from microamp.devices.wire import (
    MAX_FRAME_BYTES,
    FrameReader,
    Message,
    crc16,
    encode,
    seq_ahead,
)

FOLLOWING = Message(0x82, 41, b"telemetry")


def test_a_stream_that_never_ends_a_frame_is_dropped_once_past_four_frames_of_bytes() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x07" * (4 * MAX_FRAME_BYTES + 1)) == []
    assert reader.dropped == 1
    # the runaway bytes are gone, so the next frame reads on its own
    assert reader.feed(encode(FOLLOWING)) == [FOLLOWING]
    assert reader.dropped == 1


def test_each_runaway_stream_is_counted_as_one_more_drop() -> None:
    reader = FrameReader()
    reader.feed(b"\x07" * (4 * MAX_FRAME_BYTES + 1))
    reader.feed(b"\x07" * (4 * MAX_FRAME_BYTES + 1))
    assert reader.dropped == 2


def test_a_partial_frame_of_four_frames_of_bytes_is_still_held() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x07" * (4 * MAX_FRAME_BYTES)) == []
    assert reader.dropped == 0
    # held, it is the head of the next frame, which is spoiled and dropped as one
    assert reader.feed(encode(FOLLOWING)) == []
    assert reader.dropped == 1


def test_a_frame_split_anywhere_is_held_until_its_delimiter() -> None:
    frame = encode(FOLLOWING)
    reader = FrameReader()
    assert reader.feed(frame[:-1]) == []
    assert reader.feed(frame[-1:]) == [FOLLOWING]
    assert reader.dropped == 0


def test_empty_frames_between_delimiters_are_neither_messages_nor_drops() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x00\x00" + encode(FOLLOWING) + b"\x00") == [FOLLOWING]
    assert reader.dropped == 0


def test_a_frame_with_bad_cobs_is_dropped_and_counted() -> None:
    reader = FrameReader()
    # a COBS code byte pointing past the end of the frame
    assert reader.feed(b"\x09\x01\x02\x00" + encode(FOLLOWING)) == [FOLLOWING]
    assert reader.dropped == 1


def _framed(packet: bytes) -> bytes:
    return bytes(cobs.encode(packet)) + b"\x00"


def test_a_frame_too_short_for_a_header_and_crc_is_dropped_even_if_its_crc_matches() -> None:
    payload = b"\x82\x05"  # a type and half a sequence number
    reader = FrameReader()
    got = reader.feed(_framed(payload + struct.pack("<H", crc16(payload))) + encode(FOLLOWING))
    assert got == [FOLLOWING]
    assert reader.dropped == 1


def test_the_shortest_frame_is_a_header_and_a_crc() -> None:
    payload = b"\x04\x05\x00"
    reader = FrameReader()
    assert reader.feed(_framed(payload + struct.pack("<H", crc16(payload)))) == [
        Message(0x04, 5, b"")
    ]
    assert reader.dropped == 0


def test_each_bad_frame_is_counted_once() -> None:
    reader = FrameReader()
    spoiled = bytearray(encode(FOLLOWING))
    spoiled[3] ^= 0x20
    reader.feed(bytes(spoiled) * 3)
    assert reader.dropped == 3


def test_a_sequence_number_is_ahead_of_none_and_not_of_itself() -> None:
    assert seq_ahead(0, None)
    assert seq_ahead(0xFFFF, None)
    assert not seq_ahead(7, 7)


def test_sequence_numbers_are_ahead_for_half_the_number_space_and_wrap() -> None:
    assert seq_ahead(8, 7)
    assert seq_ahead(7 + 0x7FFF, 7)
    assert not seq_ahead(7 + 0x8000, 7)
    assert not seq_ahead(6, 7)
    assert seq_ahead(0, 0xFFFF)
    assert seq_ahead(0x7FFE, 0xFFFF)
    assert not seq_ahead(0x7FFF, 0xFFFF)
