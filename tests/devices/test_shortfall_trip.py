"""The device-side shortfall trip: its thresholds taken exactly, runs carried across blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices.protection import ShortfallTrip, Trip
from microamp.safety.faults import FaultCode


def arrays(
    commanded: list[float], delivered: list[float], rail: list[bool] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flags = rail if rail is not None else [False] * len(commanded)
    return np.array(commanded, float), np.array(delivered, float), np.array(flags, bool)


@pytest.mark.parametrize("asked", [0, -3])
def test_a_trip_count_below_one_trips_on_the_first_short_sample(asked: int) -> None:
    trip = ShortfallTrip(asked)

    assert trip.trip_samples == 1
    assert trip.check(*arrays([100.0], [0.0])) == Trip(FaultCode.CONTACT_LOST, 0, 0)


def test_an_empty_block_never_trips() -> None:
    assert ShortfallTrip(1).check(*arrays([], [])) is None


def test_a_command_of_exactly_the_minimum_is_judged_and_below_it_is_not() -> None:
    assert ShortfallTrip(1).check(*arrays([10.0], [0.0])) is not None
    assert ShortfallTrip(1).check(*arrays([9.99], [0.0])) is None


def test_delivering_exactly_a_tenth_is_contact_and_less_is_lost() -> None:
    assert ShortfallTrip(1).check(*arrays([100.0], [10.0])) is None
    assert ShortfallTrip(1).check(*arrays([100.0], [9.99])) == Trip(FaultCode.CONTACT_LOST, 0, 0)


def test_at_the_rail_delivering_exactly_the_fraction_is_enough_and_less_is_compliance() -> None:
    assert ShortfallTrip(1).check(*arrays([100.0], [80.0], [True])) is None
    assert ShortfallTrip(1).check(*arrays([100.0], [79.9], [True])) == Trip(
        FaultCode.COMPLIANCE, 0, 0
    )


def test_short_of_the_fraction_away_from_the_rail_is_no_fault() -> None:
    assert ShortfallTrip(1).check(*arrays([100.0], [50.0], [False])) is None


def test_a_lost_contact_at_the_rail_is_reported_as_lost_contact() -> None:
    assert ShortfallTrip(1).check(*arrays([100.0], [0.0], [True])) == Trip(
        FaultCode.CONTACT_LOST, 0, 0
    )


def test_negative_currents_are_judged_by_magnitude() -> None:
    assert ShortfallTrip(1).check(*arrays([-100.0], [-100.0])) is None
    assert ShortfallTrip(1).check(*arrays([-100.0], [0.0])) is not None


def test_a_run_that_continues_into_the_next_block_trips_where_it_reaches_the_count() -> None:
    trip = ShortfallTrip(3)
    assert trip.check(*arrays([100.0, 100.0, 100.0], [100.0, 0.0, 0.0])) is None

    # the run began two samples before this block: its onset is at offset -2
    assert trip.check(*arrays([100.0, 100.0], [0.0, 0.0])) == Trip(FaultCode.CONTACT_LOST, 0, -2)


def test_a_good_sample_ends_a_run() -> None:
    trip = ShortfallTrip(3)

    assert trip.check(*arrays([100.0] * 5, [0.0, 0.0, 100.0, 0.0, 0.0])) is None


def test_after_a_trip_a_new_run_starts_from_nothing() -> None:
    trip = ShortfallTrip(2)
    assert trip.check(*arrays([100.0, 100.0], [0.0, 0.0])) is not None

    assert trip.check(*arrays([100.0], [0.0])) is None


def test_reset_forgets_a_run_in_progress() -> None:
    trip = ShortfallTrip(2)
    trip.check(*arrays([100.0], [0.0]))

    trip.reset()

    assert trip.check(*arrays([100.0], [0.0])) is None


def first_trip_by_hand(blocks: list[list[bool]], trip_samples: int) -> tuple[int, int] | None:
    """(block, index) of the first sample ending a run of ``trip_samples`` bad samples."""
    run = 0
    for b, block in enumerate(blocks):
        for i, bad in enumerate(block):
            run = run + 1 if bad else 0
            if run >= trip_samples:
                return b, i
    return None


@pytest.mark.requirement("SAF-TRIP-01")
@given(
    blocks=st.lists(st.lists(st.booleans(), max_size=8), min_size=1, max_size=6),
    trip_samples=st.integers(1, 6),
)
def test_the_trip_fires_exactly_where_a_run_first_reaches_the_count(
    blocks: list[list[bool]], trip_samples: int
) -> None:
    trip = ShortfallTrip(trip_samples)
    found = None
    for b, block in enumerate(blocks):
        result = trip.check(*arrays([100.0] * len(block), [0.0 if bad else 100.0 for bad in block]))
        if result is not None:
            found = (b, result.index)
            assert result.onset == result.index - (trip_samples - 1)
            break

    assert found == first_trip_by_hand(blocks, trip_samples)
