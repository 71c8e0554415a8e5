"""`ShortfallTrip` judges only commanded samples, block by block, as one sample loop would."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices.protection import ShortfallTrip, Trip
from microamp.safety import FaultCode

MIN_UA = 10.0


def _reference(
    cmd: np.ndarray, dlv: np.ndarray, rail: np.ndarray, trip_samples: int
) -> tuple[int, int, FaultCode] | None:
    """The rule, one sample at a time: (trip index, onset index, code) or None."""
    run = onset = 0
    in_pulse = all_short = last_lost = tail_lost = False
    for i in range(cmd.size):
        judged = abs(cmd[i]) >= MIN_UA
        code = FaultCode.CONTACT_LOST if last_lost else FaultCode.COMPLIANCE
        if in_pulse and not judged and (all_short or tail_lost):
            return i, onset, code
        if judged:
            if not in_pulse:
                all_short = True
            lost = abs(dlv[i]) < 0.1 * abs(cmd[i])
            short = bool(rail[i]) and abs(dlv[i]) < 0.8 * abs(cmd[i])
            tail_lost = lost
            if lost or short:
                onset = i if run == 0 else onset
                run += 1
                last_lost = lost
                if run >= trip_samples:
                    code = FaultCode.CONTACT_LOST if lost else FaultCode.COMPLIANCE
                    return i, onset, code
            else:
                run, all_short = 0, False
        in_pulse = judged
    return None


# per sample: commanded (0 = a gap), and what flowed: all, a compliance shortfall or nothing
samples = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.0, 5.0, 100.0, -100.0]), st.sampled_from(["ok", "rail", "open"])
    ),
    min_size=1,
    max_size=120,
)


def _arrays(draw: list[tuple[float, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cmd = np.array([c for c, _ in draw])
    dlv = np.array([c if k == "ok" else (0.5 * c if k == "rail" else 0.0) for c, k in draw])
    rail = np.array([k == "rail" for _, k in draw])
    return cmd, dlv, rail


@given(draw=samples, trip_samples=st.integers(1, 12), cuts=st.lists(st.integers(0, 120)))
def test_the_trip_is_the_same_however_the_samples_are_split_into_blocks(
    draw: list[tuple[float, str]], trip_samples: int, cuts: list[int]
) -> None:
    cmd, dlv, rail = _arrays(draw)
    expected = _reference(cmd, dlv, rail, trip_samples)
    trip = ShortfallTrip(trip_samples, min_ua=MIN_UA)
    bounds = sorted({0, cmd.size, *(c for c in cuts if c < cmd.size)})
    found: tuple[int, int, FaultCode] | None = None
    for a, b in zip(bounds, bounds[1:], strict=False):
        result: Trip | None = trip.check(cmd[a:b], dlv[a:b], rail[a:b])
        if result is not None:
            found = (a + result.index, a + result.onset, result.code)
            break
    assert found == expected


def test_gaps_between_pulses_do_not_excuse_a_shortfall() -> None:
    # pulses of 3 commanded samples, 7 idle ones between: a 10-sample debounce that the
    # idle samples reset would never trip; each pulse here flows not at all
    cmd = np.tile(np.r_[np.full(3, 300.0), np.zeros(7)], 5)
    trip = ShortfallTrip(10).check(cmd, np.zeros_like(cmd), np.zeros(cmd.size, dtype=bool))
    assert trip is not None and trip.code == FaultCode.CONTACT_LOST
    assert (trip.onset, trip.index) == (0, 3)


def test_a_probe_lifting_during_a_pulse_trips_when_the_pulse_ends() -> None:
    # the pulse flows for 2 samples, then nothing for its last 4: shorter than the debounce
    cmd = np.r_[np.full(6, 300.0), np.zeros(20)]
    dlv = np.r_[np.full(2, 300.0), np.zeros(24)]
    trip = ShortfallTrip(10).check(cmd, dlv, np.zeros(cmd.size, dtype=bool))
    assert trip is not None and trip.code == FaultCode.CONTACT_LOST
    assert (trip.onset, trip.index) == (2, 6)


def test_a_pulse_clipped_briefly_at_the_rail_at_its_end_does_not_trip() -> None:
    # dry skin reaching the rail for the last 4 samples of a pulse, still passing 60 %
    cmd = np.r_[np.full(20, 300.0), np.zeros(20)]
    dlv = np.r_[np.full(16, 300.0), np.full(4, 180.0), np.zeros(20)]
    rail = np.r_[np.zeros(16, dtype=bool), np.ones(4, dtype=bool), np.zeros(20, dtype=bool)]
    assert ShortfallTrip(10).check(cmd, dlv, rail) is None


def test_a_brief_dip_inside_a_long_pulse_does_not_trip() -> None:
    cmd = np.full(40, 300.0)
    dlv = cmd.copy()
    dlv[10:15] = 0.0  # five samples without current, then it flows again
    assert ShortfallTrip(10).check(cmd, dlv, np.zeros(40, dtype=bool)) is None
