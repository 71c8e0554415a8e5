"""Numbers that cross the serial wire as float32 come back as the same float32.

The host reads the device's capabilities as float32 and writes some back (its maximum current
as the soft limit of a professional profile): a decimal that named a neighbouring float32 would
put the limit one step above the device's own maximum, and the device would refuse it at
connect.
"""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from devices.links import PHYSICS, close_both, linked_host
from microamp.clock import SimulatedClock
from microamp.devices.serial_device import _f32

F32 = struct.Struct("<f")


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_a_float32_read_off_the_wire_packs_back_to_the_same_bits(value: float) -> None:
    sent = F32.pack(value)
    assert F32.pack(_f32(F32.unpack(sent)[0])) == sent


@given(st.floats(min_value=1.0, max_value=1000.0, width=32))
def test_a_device_whose_maximum_is_any_float32_accepts_its_own_maximum_as_the_soft_limit(
    max_ua: float,
) -> None:
    clock = SimulatedClock()
    host, link = linked_host(
        clock, profile="professional", physics=f"{PHYSICS}&max_ua={np.float32(max_ua)!s}"
    )
    try:
        assert host.capabilities.max_current_ua == _f32(max_ua)
        assert F32.pack(host.soft_limit_ua) == F32.pack(link.firmware.soft_limit_ua)
    finally:
        close_both(host, link)
