from __future__ import annotations

import math

import pytest

from microamp.errors import InvalidValue
from microamp.stimulus import Waveform


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amplitude_ua": -1.0}, "amplitude_ua"),
        ({"amplitude_ua": math.nan}, "amplitude_ua"),
        ({"amplitude_ua": math.inf}, "amplitude_ua"),
        ({"frequency_hz": 0.0}, "frequency_hz"),
        ({"frequency_hz": 0.05}, "frequency_hz"),
        ({"frequency_hz": 2500.0}, "frequency_hz"),
        ({"duty": 0.0}, "duty"),
        ({"duty": 1.2}, "duty"),
        ({"shape": "sawtooth"}, "shape"),
        ({"polarity": "sideways"}, "polarity"),
        ({"reversal_s": 0.0}, "reversal_s"),
        ({"shape": "pulse", "frequency_hz": 10.0, "phase_us": 200_000.0}, "phase_us"),
        ({"shape": "ramped-square", "frequency_hz": 10.0, "rise_s": 0.03}, "rise_s"),
        ({"burst_on_s": 1.0}, "burst_off_s"),
    ],
)
def test_bad_values_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Waveform(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in str(caught.value)


def test_pulse_on_fraction_is_its_phase_over_the_period() -> None:
    wf = Waveform(shape="pulse", frequency_hz=100.0, phase_us=1000.0)
    assert wf.on_fraction == pytest.approx(0.1)


def test_round_trip_through_a_dict_keeps_every_field() -> None:
    wf = Waveform(shape="sine", amplitude_ua=123.0, frequency_hz=3.0, polarity="negative")
    assert Waveform.from_dict(wf.to_dict()) == wf


def test_from_dict_refuses_an_unknown_key() -> None:
    with pytest.raises(InvalidValue) as caught:
        Waveform.from_dict({"amplitude": 100})
    assert caught.value.field == "amplitude"
