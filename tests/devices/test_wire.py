"""Framing: COBS with a CRC; anything corrupted is dropped, never misread."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from microamp.devices.wire import FrameReader, Message, crc16, encode


def test_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1


messages = st.builds(Message, st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=200))


@given(batch=st.lists(messages, max_size=10), split=st.integers(0, 50))
def test_frames_round_trip_however_the_stream_is_split(batch: list[Message], split: int) -> None:
    stream = b"".join(encode(m) for m in batch)
    reader = FrameReader()
    got = reader.feed(stream[:split]) + reader.feed(stream[split:])
    assert got == batch and reader.dropped == 0


@given(message=messages, position=st.integers(0, 1000), flip=st.integers(1, 255))
def test_a_corrupted_frame_is_dropped_and_the_next_one_still_read(
    message: Message, position: int, flip: int
) -> None:
    frame = bytearray(encode(message))
    index = position % (len(frame) - 1)  # never the delimiter
    frame[index] ^= flip
    following = Message(0x80, 9, b"\x01\x00")
    got = FrameReader().feed(bytes(frame) + encode(following))
    assert got[-1] == following
    assert message not in got[:-1]
