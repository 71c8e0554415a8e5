"""`FrameMeter` field by field: hand-made blocks with known sums, peaks and flags, the noise
drawn from the same seeded generator, frames that span blocks, and the vectorised path for
several whole frames held to the frame-by-frame one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.devices.base import TelemetryFrame
from microamp.devices.frames import FrameMeter, _impedance_ohm

RATE_HZ = 1000.0
FRAME = 4  # samples a frame: 4 ms at 1 kHz


def _meter(noise_ua: float = 0.0, noise_v: float = 0.0, seed: int = 7) -> FrameMeter:
    return FrameMeter(RATE_HZ, FRAME, noise_ua=noise_ua, noise_v=noise_v, seed=seed)


def _block(
    commanded: list[float], delivered: list[float], volts: list[float], rail: list[bool]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.array(commanded, dtype=float), np.array(delivered, dtype=float),
            np.array(volts, dtype=float), np.array(rail, dtype=bool))  # fmt: skip


def _values(frame: TelemetryFrame) -> tuple[float, ...]:
    return (frame.t_s, frame.commanded_ua, frame.commanded_peak_ua, frame.delivered_ua,
            frame.peak_ua, frame.voltage_v, frame.window_s)  # fmt: skip


def test_impedance_is_volts_per_ampere_of_the_peak_from_one_microampere() -> None:
    assert _impedance_ohm(1.0, 100.0, 100.0) == pytest.approx(10_000.0)
    assert _impedance_ohm(2.0, 1.0, 0.0) == pytest.approx(2_000_000.0)  # 1 µA counts
    # below 1 µA flowing: inf while 1 µA or more is commanded (an open circuit), nan idle
    assert _impedance_ohm(2.0, 0.999, 1.0) == math.inf
    assert _impedance_ohm(2.0, 0.0, 300.0) == math.inf
    assert math.isnan(_impedance_ohm(2.0, 0.999, 0.999))
    assert math.isnan(_impedance_ohm(0.0, 0.0, 0.0))


def test_whole_frames_carry_mean_and_peak_magnitudes_and_end_times() -> None:
    meter = _meter()
    # two whole frames and half of a third: biphasic (negative) samples count by magnitude
    frames = meter.add(100, *_block(
        [10, -30, 20, 0, 100, 100, -100, 100, 7, 7],
        [8, -24, 16, 0, 50, 60, -70, 80, 5, 5],
        [0.5, -1.5, 1.0, 0.0, 2.0, -3.0, 2.5, 1.0, 0.1, 0.1],
        [False] * 10,
    ), open_circuit=False)  # fmt: skip
    assert [_values(f) for f in frames] == [
        (0.104, 15.0, 30.0, 12.0, 24.0, 1.5, 0.004),
        (0.108, 100.0, 100.0, 65.0, 80.0, 3.0, 0.004),
    ]
    assert [f.flags for f in frames] == [frozenset(), frozenset()]
    assert frames[0].impedance_ohm == pytest.approx(1.5 / 24e-6)
    # the third frame is finished by the next block, and its time runs on from the first
    (third,) = meter.add(110, *_block([-1, 1], [1, 3], [0.2, -0.4], [False, True]),
                         open_circuit=False)  # fmt: skip
    assert _values(third) == (0.112, 4.0, 7.0, 3.5, 5.0, 0.4, 0.004)
    assert third.flags == frozenset({"compliance"})


def test_a_frame_built_sample_by_sample_forgets_the_frame_before() -> None:
    meter = _meter()
    first = meter.add(0, *_block([400] * 4, [300] * 4, [9.0] * 4, [True] * 4), open_circuit=True)
    assert [f.flags for f in first] == [frozenset({"open_circuit"})]  # open outranks the rail
    frames = []
    for k, (cmd, dlv, volt) in enumerate(((2, 1, 0.1), (4, 3, 0.2), (2, 1, 0.1), (0, 1, 0.3))):
        frames += meter.add(4 + k, *_block([cmd], [dlv], [volt], [False]), open_circuit=False)
    (second,) = frames
    # nothing of the first frame's maxima, flags or sums is left in the second
    assert _values(second) == (0.008, 2.0, 4.0, 1.5, 3.0, 0.3, 0.004)
    assert second.flags == frozenset()
    assert second.impedance_ohm == pytest.approx(0.3 / 3e-6)


def test_a_part_filled_frame_is_finished_before_whole_frames_are_taken_at_once() -> None:
    meter = _meter()
    assert meter.add(0, *_block([1], [1], [0.1], [False]), open_circuit=False) == []
    # three samples finish the first frame, then two whole frames, each with its own samples
    frames = meter.add(1, *_block([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
                                  [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
                                  [0.1] * 3 + [0.2] * 4 + [0.3] * 4, [False] * 11),
                       open_circuit=False)  # fmt: skip
    assert [_values(f) for f in frames] == [
        (0.004, 1.0, 1.0, 1.0, 1.0, 0.1, 0.004),
        (0.008, 2.0, 2.0, 2.0, 2.0, 0.2, 0.004),
        (0.012, 3.0, 3.0, 3.0, 3.0, 0.3, 0.004),
    ]
    # nothing of that block is left over: one more sample starts a frame, it ends none
    assert meter.add(12, *_block([9], [9], [0.9], [False]), open_circuit=False) == []
    (frame,) = meter.add(13, *_block([0, 0, 0], [0, 0, 0], [0, 0, 0], [False] * 3),
                         open_circuit=False)  # fmt: skip
    assert _values(frame) == (0.016, 2.25, 9.0, 2.25, 9.0, 0.9, 0.004)


def test_an_idle_frame_reads_no_commanded_peak_and_no_impedance() -> None:
    meter = _meter()
    frames = []
    for k in range(FRAME):  # sample by sample, so the running maxima start from nothing
        frames += meter.add(k, *_block([0.5], [0.25], [0.0], [False]), open_circuit=False)
    (frame,) = frames
    assert _values(frame) == (0.004, 0.5, 0.5, 0.25, 0.25, 0.0, 0.004)
    assert math.isnan(frame.impedance_ohm)  # under 1 µA commanded and flowing: idle


def test_an_open_circuit_anywhere_in_a_frame_flags_it_and_hides_the_rail() -> None:
    meter = _meter()
    assert meter.add(0, *_block([5, 5], [0, 0], [9, 9], [True, True]), open_circuit=True) == []
    (frame,) = meter.add(2, *_block([5, 5], [0, 0], [9, 9], [True, True]), open_circuit=False)
    assert frame.flags == frozenset({"open_circuit"})
    assert frame.impedance_ohm == math.inf  # 5 µA commanded, none flowing
    # the same on the vectorised path: every frame of an open block is open, none compliance
    frames = meter.add(4, *_block([5] * 8, [0] * 8, [9] * 8, [True] * 8), open_circuit=True)
    assert [f.flags for f in frames] == [frozenset({"open_circuit"})] * 2
    # and the rail alone, frame by frame, flags compliance only where it was reached
    frames = meter.add(12, *_block([5] * 8, [5] * 8, [9] * 8, [False] * 7 + [True]),
                       open_circuit=False)  # fmt: skip
    assert [f.flags for f in frames] == [frozenset(), frozenset({"compliance"})]


def test_a_skipped_partial_frame_is_dropped_and_the_next_starts_where_it_is_added() -> None:
    meter = _meter()
    meter.add(0, *_block([900, 900], [900, 900], [20, 20], [True, True]), open_circuit=True)
    meter.skip()
    (frame,) = meter.add(50, *_block([1] * 4, [1] * 4, [0.5] * 4, [False] * 4), open_circuit=False)
    assert _values(frame) == (0.054, 1.0, 1.0, 1.0, 1.0, 0.5, 0.004)
    assert frame.flags == frozenset()
    assert meter.add(54, *_block([], [], [], []), open_circuit=True) == []
    (after,) = meter.add(54, *_block([2] * 4, [2] * 4, [1] * 4, [False] * 4), open_circuit=False)
    assert after.flags == frozenset() and after.t_s == pytest.approx(0.058)


def test_noise_is_drawn_three_normals_a_frame_from_the_seed_and_clipped_at_zero() -> None:
    seed, noise_ua, noise_v = 11, 2.0, 0.5
    meter = _meter(noise_ua=noise_ua, noise_v=noise_v, seed=seed)
    expected = np.random.default_rng(seed)
    frames = meter.add(0, *_block([10] * 12, [0] * 4 + [50] * 8, [0] * 4 + [3] * 8, [False] * 12),
                       open_circuit=False)  # fmt: skip
    for frame, (delivered, volts) in zip(frames, ((0, 0), (50, 3), (50, 3)), strict=True):
        z = expected.normal(0.0, 1.0, 3)
        # the mean is left unclipped (charge sums stay unbiased); peak and voltage are not
        assert frame.delivered_ua == pytest.approx(delivered + noise_ua * z[0])
        assert frame.peak_ua == pytest.approx(max(0.0, delivered + noise_ua * z[1]))
        assert frame.voltage_v == pytest.approx(max(0.0, volts + noise_v * z[2]))
        assert frame.commanded_ua == 10.0 and frame.commanded_peak_ua == 10.0
    again = _meter(noise_ua=noise_ua, noise_v=noise_v, seed=seed)
    assert again.add(0, *_block([10] * 12, [0] * 4 + [50] * 8, [0] * 4 + [3] * 8, [False] * 12),
                     open_circuit=False) == frames  # fmt: skip


def test_an_idle_frame_with_noise_never_reads_a_negative_peak_or_voltage() -> None:
    meter = _meter(noise_ua=5.0, noise_v=1.0, seed=3)
    frames = meter.add(0, *_block([0] * 400, [0] * 400, [0] * 400, [False] * 400),
                       open_circuit=False)  # fmt: skip
    assert len(frames) == 100
    assert min(f.peak_ua for f in frames) == 0.0 and min(f.voltage_v for f in frames) == 0.0
    assert min(f.delivered_ua for f in frames) < 0.0  # the mean keeps its negative noise


samples = st.lists(
    st.tuples(
        st.floats(-500, 500, allow_nan=False),
        st.floats(-500, 500, allow_nan=False),
        st.floats(-20, 20, allow_nan=False),
        st.booleans(),
    ),
    min_size=0,
    max_size=40,
)


@settings(max_examples=120, deadline=None)
@given(data=samples, cuts=st.lists(st.integers(0, 40), max_size=6), open_circuit=st.booleans(),
       noisy=st.booleans())  # fmt: skip
def test_a_block_cut_anywhere_gives_the_frames_of_one_sample_at_a_time(
    data: list[tuple[float, float, float, bool]],
    cuts: list[int],
    open_circuit: bool,
    noisy: bool,
) -> None:
    """The vectorised path (several whole frames at once) and the carry-over of a part-filled
    frame across blocks give the frames the plain sample-by-sample accumulation does."""
    cmd, dlv, volt = (np.array([d[k] for d in data], dtype=float) for k in range(3))
    rail = np.array([d[3] for d in data], dtype=bool)
    noise = (2.0, 0.3) if noisy else (0.0, 0.0)
    one_at_a_time, in_blocks = _meter(*noise), _meter(*noise)
    expected: list[TelemetryFrame] = []
    for i in range(len(data)):
        s = slice(i, i + 1)
        expected += one_at_a_time.add(i, cmd[s], dlv[s], volt[s], rail[s],
                                      open_circuit=open_circuit)  # fmt: skip
    got: list[TelemetryFrame] = []
    edges = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for a, b in zip(edges, edges[1:], strict=False):
        got += in_blocks.add(a, cmd[a:b], dlv[a:b], volt[a:b], rail[a:b],
                             open_circuit=open_circuit)  # fmt: skip
    assert len(got) == len(expected) == len(data) // FRAME
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.flags == theirs.flags and mine.window_s == theirs.window_s
        assert _values(mine) == pytest.approx(_values(theirs), rel=1e-9, abs=1e-9)
        if math.isnan(theirs.impedance_ohm):
            assert math.isnan(mine.impedance_ohm)
        else:
            assert mine.impedance_ohm == pytest.approx(theirs.impedance_ohm, rel=1e-9)
