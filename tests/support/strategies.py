"""Hypothesis strategies for valid waveforms."""

from __future__ import annotations

from hypothesis import strategies as st

from microamp.stimulus import POLARITIES, Waveform


@st.composite
def waveforms(draw: st.DrawFn, max_amplitude_ua: float = 1000.0) -> Waveform:
    shape = draw(st.sampled_from(["square", "ramped-square", "sine", "triangle", "pulse"]))
    frequency_hz = draw(st.floats(0.5, 500.0))
    duty = draw(st.floats(0.05, 1.0))
    polarity = draw(st.sampled_from(POLARITIES))
    pulses = 2 if polarity == "biphasic" else 1
    rise_s = draw(st.floats(0.0, 0.5)) * duty / frequency_hz / pulses / 2
    phase_us = draw(st.floats(0.05, 1.0)) * 1e6 / frequency_hz
    return Waveform(
        shape=shape,  # type: ignore[arg-type]
        amplitude_ua=draw(st.floats(0.0, max_amplitude_ua)),
        frequency_hz=frequency_hz,
        duty=duty,
        polarity=polarity,  # type: ignore[arg-type]
        reversal_s=draw(st.floats(0.05, 5.0)),
        rise_s=rise_s,
        phase_us=phase_us,
    )
