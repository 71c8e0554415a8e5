"""The dose record of a zone: its dict, an untreated zone, and the frames that count for less."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.devices.base import TelemetryFrame
from microamp.session import DoseLedger


def frame(
    t_s: float, delivered_ua: float, impedance_ohm: float = 1000.0, window_s: float = 0.5
) -> TelemetryFrame:
    return TelemetryFrame(
        t_s, delivered_ua, delivered_ua, delivered_ua * 2, 1.0, impedance_ohm, window_s=window_s
    )


def test_a_zone_dose_as_a_dict_names_every_quantity_with_its_unit() -> None:
    ledger = DoseLedger()
    ledger.add("cheeks", frame(0.5, 100.0, 2000.0))

    assert ledger.zone("cheeks").to_dict() == {
        "zone": "cheeks",
        "charge_uc": 50.0,
        "stimulation_s": 0.5,
        "mean_current_ua": 100.0,
        "mean_impedance_ohm": 2000.0,
    }


def test_a_zone_never_treated_has_a_zero_dose_and_no_impedance() -> None:
    ledger = DoseLedger()
    ledger.add("cheeks", frame(0.5, 100.0))

    dose = ledger.zone("eyes")

    assert (dose.zone, dose.charge_uc, dose.stimulation_s, dose.mean_current_ua) == (
        "eyes",
        0.0,
        0.0,
        0.0,
    )
    assert dose.mean_impedance_ohm is None
    assert list(ledger.by_zone()) == ["cheeks"]


def test_a_negative_reading_adds_time_but_no_charge() -> None:
    ledger = DoseLedger()

    charge_uc = ledger.add("chin", frame(0.5, -40.0))

    assert charge_uc == 0.0
    assert ledger.zone("chin").charge_uc == 0.0
    assert ledger.zone("chin").stimulation_s == 0.5


@pytest.mark.parametrize("impedance_ohm", [0.0, -10.0, math.nan, math.inf])
def test_a_frame_without_a_positive_finite_impedance_is_left_out_of_the_mean(
    impedance_ohm: float,
) -> None:
    ledger = DoseLedger()
    ledger.add("chin", frame(0.5, 100.0, 3000.0))

    ledger.add("chin", frame(1.0, 100.0, impedance_ohm))

    assert ledger.zone("chin").mean_impedance_ohm == 3000.0
    assert ledger.zone("chin").stimulation_s == 1.0


def test_an_impedance_under_one_ohm_still_counts() -> None:
    ledger = DoseLedger()

    ledger.add("chin", frame(0.5, 100.0, 0.5))

    assert ledger.zone("chin").mean_impedance_ohm == 0.5


def test_the_mean_impedance_is_weighted_by_each_frames_window() -> None:
    ledger = DoseLedger()
    ledger.add("chin", frame(0.5, 100.0, 1000.0, window_s=0.25))
    ledger.add("chin", frame(1.5, 100.0, 4000.0, window_s=0.75))

    assert ledger.zone("chin").mean_impedance_ohm == pytest.approx(3250.0)


def test_a_frame_with_no_output_still_sets_the_time_base_for_the_next() -> None:
    ledger = DoseLedger()
    assert ledger.add(None, frame(1.0, 50.0, window_s=0.5)) == 0.0

    ledger.add("chin", frame(1.25, 100.0, window_s=0.0))

    assert ledger.zone("chin").stimulation_s == pytest.approx(0.25)
    assert ledger.zone("chin").charge_uc == pytest.approx(25.0)


def test_the_first_frame_without_a_window_counts_no_time() -> None:
    ledger = DoseLedger()

    assert ledger.add("chin", frame(3.0, 100.0, window_s=0.0)) == 0.0
    assert ledger.zone("chin").stimulation_s == 0.0


def test_a_frame_earlier_than_the_last_counts_no_time() -> None:
    ledger = DoseLedger()
    ledger.add("chin", frame(2.0, 100.0, window_s=0.0))

    ledger.add("chin", frame(1.0, 100.0, window_s=0.0))

    assert ledger.zone("chin").stimulation_s == 0.0


@given(
    readings=st.lists(
        st.tuples(st.sampled_from(["cheeks", "chin", None]), st.floats(-500, 500)), max_size=30
    )
)
def test_the_total_charge_is_the_sum_of_every_zone_and_never_negative(
    readings: list[tuple[str | None, float]],
) -> None:
    ledger = DoseLedger()
    for i, (zone, delivered_ua) in enumerate(readings):
        ledger.add(zone, frame(0.1 * (i + 1), delivered_ua, window_s=0.1))

    zones = ledger.by_zone()
    assert ledger.total_charge_uc == pytest.approx(sum(d.charge_uc for d in zones.values()))
    assert all(d.charge_uc >= 0.0 for d in zones.values())
