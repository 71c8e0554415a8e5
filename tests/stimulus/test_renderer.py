from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from microamp.stimulus import Envelope, Renderer, Waveform
from support.strategies import waveforms

RATE_HZ = 20_000.0


def _render(renderer: Renderer, sizes: list[int]) -> np.ndarray:
    return np.concatenate([renderer.render(n).samples_ua.copy() for n in sizes])


@given(
    waveform=waveforms(),
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=25),
    ramp_up_s=st.floats(0.0, 0.2),
)
def test_any_block_partition_renders_the_same_samples_as_one_block(
    waveform: Waveform, sizes: list[int], ramp_up_s: float
) -> None:
    envelope = Envelope(ramp_up_s=ramp_up_s)
    one = Renderer(waveform, RATE_HZ, envelope=envelope, block_size=8)
    many = Renderer(waveform, RATE_HZ, envelope=envelope, block_size=8)
    expected = _render(one, [sum(sizes)])
    actual = _render(many, sizes)
    np.testing.assert_array_equal(actual, expected)


@given(waveform=waveforms(), intensity=st.floats(0.0, 1.0))
def test_samples_never_exceed_the_set_intensity_of_the_amplitude(
    waveform: Waveform, intensity: float
) -> None:
    renderer = Renderer(waveform, RATE_HZ, intensity=intensity, start_at_level=True)
    samples = _render(renderer, [4000])
    assert np.all(np.abs(samples) <= waveform.amplitude_ua * intensity * (1 + 1e-12) + 1e-9)


@given(
    waveform=waveforms(),
    slew_ua_s=st.floats(10.0, 5000.0),
    changes=st.lists(st.tuples(st.integers(1, 600), st.floats(0.0, 1.0)), max_size=8),
)
def test_the_envelope_never_moves_faster_than_the_slew_limit(
    waveform: Waveform, slew_ua_s: float, changes: list[tuple[int, float]]
) -> None:
    renderer = Renderer(waveform, RATE_HZ, max_slew_ua_s=slew_ua_s, envelope=Envelope(0.0, 0.0))
    envelopes = [renderer.render(200).envelope_ua.copy()]
    for samples, intensity in changes:
        renderer.set_intensity(intensity)
        envelopes.append(renderer.render(samples).envelope_ua.copy())
    renderer.ramp_down()
    envelopes.append(renderer.render(400).envelope_ua.copy())
    steps = np.abs(np.diff(np.concatenate([[0.0], *envelopes])))
    assert np.all(steps <= slew_ua_s / RATE_HZ * (1 + 1e-9) + 1e-9)


def test_rendering_reuses_its_buffers_between_blocks() -> None:
    renderer = Renderer(Waveform(), RATE_HZ, block_size=256)
    first = renderer.render()
    second = renderer.render()
    assert np.shares_memory(first.samples_ua, second.samples_ua)
    assert np.shares_memory(first.envelope_ua, second.envelope_ua)


def test_output_starts_at_zero_and_reaches_the_level_after_the_ramp() -> None:
    waveform = Waveform(shape="sine", amplitude_ua=300.0, frequency_hz=50.0)
    renderer = Renderer(waveform, RATE_HZ, envelope=Envelope(ramp_up_s=0.5), max_slew_ua_s=1e4)
    block = renderer.render(int(RATE_HZ))
    assert block.envelope_ua[0] == 0.0
    ramp_end = int(0.5 * RATE_HZ)
    np.testing.assert_allclose(block.envelope_ua[ramp_end // 2], 150.0, rtol=1e-3)
    np.testing.assert_allclose(block.envelope_ua[ramp_end:], 300.0)
    assert np.all(np.diff(block.envelope_ua[: ramp_end + 1]) > 0)


def test_ramp_down_finishes_at_zero_output() -> None:
    renderer = Renderer(Waveform(amplitude_ua=200.0), RATE_HZ, envelope=Envelope(0.1, 0.1))
    renderer.render(4000)
    renderer.ramp_down()
    renderer.render(4000)
    assert renderer.finished
    assert np.all(renderer.render(1000).samples_ua == 0.0)


def test_alternating_polarity_flips_sign_every_reversal() -> None:
    waveform = Waveform(shape="square", amplitude_ua=100.0, duty=1.0, reversal_s=0.25)
    renderer = Renderer(waveform, 1000.0, start_at_level=True)
    samples = renderer.render(1000).samples_ua
    assert np.all(samples[:250] == 100.0)
    assert np.all(samples[250:500] == -100.0)
    assert np.all(samples[500:750] == 100.0)


def test_burst_gates_output_off_between_bursts() -> None:
    waveform = Waveform(shape="sine", amplitude_ua=100.0, burst_on_s=0.2, burst_off_s=0.3)
    samples = Renderer(waveform, 1000.0, start_at_level=True).render(1000).samples_ua
    assert np.all(samples[200:500] == 0.0)
    assert np.any(samples[:200] != 0.0)
    assert np.any(samples[500:700] != 0.0)
