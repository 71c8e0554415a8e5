"""The sim keeps one net-charge account for its whole life: commands, steps, re-applies, stops
and starts all charge it, and no sequence of them passes the profile's imbalance or mean-DC
limits. Output is zero from the offending sample on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.clock import SimulatedClock
from microamp.devices import Command
from microamp.devices.audio import AudioDevice
from microamp.devices.sim import SimDevice, SimSettings
from microamp.safety import FaultCode, get_profile
from microamp.stimulus import Waveform
from support.fakes import FakeStream

HOME = get_profile("home")
# positive pulses, 50 µA of mean DC: under the 100 µA window limit, one-way all the same
POSITIVE = Waveform(
    shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1 / 6, polarity="positive"
)


class Probes:
    """Records every sample the sim drove, by absolute index."""

    def __init__(self) -> None:
        self.blocks: list[tuple[int, np.ndarray]] = []

    def __call__(self, start: int, samples_ua: np.ndarray) -> None:
        self.blocks.append((start, samples_ua))

    def samples(self) -> np.ndarray:
        if not self.blocks:
            return np.zeros(0)
        end = max(start + b.size for start, b in self.blocks)
        out = np.zeros(end)
        for start, block in self.blocks:
            out[start : start + block.size] = block
        return out


def _sim(rate_hz: float = 2000.0) -> tuple[SimDevice, SimulatedClock, Probes]:
    clock = SimulatedClock()
    probes = Probes()
    device = SimDevice(clock, HOME, SimSettings(rate_hz=rate_hz, telemetry_hz=50.0), tap=probes)
    return device, clock, probes


def _hold(device: SimDevice, clock: SimulatedClock, seconds: float) -> None:
    """Keep the command in force for ``seconds``, renewing it as a supervisor would."""
    for _ in range(round(seconds / 0.1)):
        clock.sleep(0.1)
        device.heartbeat()
        device.poll()


def test_stopping_and_reapplying_a_command_does_not_reset_the_net_charge() -> None:
    device, clock, probes = _sim()
    with device:
        for _ in range(6):  # 6 x 5 s of 50 µA one way: 1.5 mC without the account
            device.apply(Command(POSITIVE, expires_after_s=2.0))
            _hold(device, clock, 5.0)
            device.stop()
        faults = device.drain_faults()
    assert FaultCode.CHARGE_IMBALANCE in {f.code for f in faults}
    net_uc = float(np.sum(probes.samples())) / 2000.0
    assert net_uc <= HOME.max_imbalance_uc.value + 1e-6
    assert device.charge.net_uc == pytest.approx(net_uc, abs=1e-6)


def test_a_swing_of_charge_within_ten_seconds_trips_the_mean_dc_limit() -> None:
    # -300 µA for 2.5 s, then +300 µA: the net stays under 1000 µC, but a 10 s window sees
    # more than 100 µA of mean DC before it does
    steady = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0)
    device, clock, probes = _sim()
    with device:
        device.apply(Command(Waveform.from_dict({**steady.to_dict(), "polarity": "negative"})))
        _hold(device, clock, 2.5)
        device.apply(Command(Waveform.from_dict({**steady.to_dict(), "polarity": "positive"})))
        _hold(device, clock, 5.0)
        faults = device.drain_faults()
    assert [f.code for f in faults] == [FaultCode.CHARGE_IMBALANCE]
    samples = probes.samples()
    net = np.cumsum(samples) / 2000.0
    assert np.max(np.abs(net)) < HOME.max_imbalance_uc.value
    assert _worst_window_uc(samples, 2000.0, 10.0) <= 1000.0 + 1e-6
    zero_index = round(faults[0].zero_t_s * 2000.0)
    assert np.all(samples[zero_index:] == 0.0)


def _worst_window_uc(samples: np.ndarray, rate_hz: float, window_s: float) -> float:
    """The largest |net charge| over any stretch of at most ``window_s``, exactly.

    The spread (max - min) of the running charge over every run of window + 1 values, by the
    van Herk / Gil-Werman sliding extremes.
    """
    charge = np.concatenate(([0.0], np.cumsum(samples))) / rate_hz
    span = min(round(window_s * rate_hz) + 1, charge.size)
    blocks = -(-charge.size // span)
    padded_hi = np.full(blocks * span, -np.inf)
    padded_lo = np.full(blocks * span, np.inf)
    padded_hi[: charge.size] = charge
    padded_lo[: charge.size] = charge
    hi, lo = padded_hi.reshape(blocks, span), padded_lo.reshape(blocks, span)
    hi_pre = np.maximum.accumulate(hi, axis=1).ravel()
    lo_pre = np.minimum.accumulate(lo, axis=1).ravel()
    hi_suf = np.maximum.accumulate(hi[:, ::-1], axis=1)[:, ::-1].ravel()
    lo_suf = np.minimum.accumulate(lo[:, ::-1], axis=1)[:, ::-1].ravel()
    starts = np.arange(charge.size - span + 1)
    top = np.maximum(hi_suf[starts], hi_pre[starts + span - 1])
    bottom = np.minimum(lo_suf[starts], lo_pre[starts + span - 1])
    return float(np.max(top - bottom))


shapes = st.sampled_from(["square", "ramped-square", "sine", "triangle", "pulse"])
polarities = st.sampled_from(["positive", "negative", "alternating", "biphasic"])


@st.composite
def commands(draw: st.DrawFn) -> Command:
    frequency_hz = draw(st.sampled_from([1.0, 5.0, 10.0, 40.0, 100.0]))
    waveform = Waveform(
        shape=draw(shapes),  # type: ignore[arg-type]
        amplitude_ua=draw(st.floats(50.0, 400.0)),
        frequency_hz=frequency_hz,
        duty=draw(st.sampled_from([0.1, 0.5, 1.0])),
        polarity=draw(polarities),  # type: ignore[arg-type]
        reversal_s=draw(st.sampled_from([0.5, 2.5, 5.0])),
        phase_us=min(2000.0, 1e6 / frequency_hz),
    )
    return Command(waveform, intensity=draw(st.floats(0.3, 1.0)), expires_after_s=2.0)


actions = st.lists(
    st.one_of(
        st.tuples(st.just("apply"), commands(), st.floats(0.2, 6.0)),
        st.tuples(st.just("stop"), st.none(), st.floats(0.0, 4.0)),
        st.tuples(st.just("reapply"), st.none(), st.floats(0.2, 6.0)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25)
@given(actions=actions)
def test_no_sequence_of_commands_passes_the_charge_limits(
    actions: list[tuple[str, Command | None, float]],
) -> None:
    device, clock, probes = _sim()
    last: Command | None = None
    faults = []
    applied_at: list[int] = []
    with device:
        for kind, command, hold_s in actions:
            if kind == "stop":
                device.stop()
            elif kind == "apply" or last is not None:
                last = command if kind == "apply" else last
                assert last is not None
                if kind == "reapply":
                    device.stop()
                device.apply(last)
                applied_at.append(round(clock.now() * 2000.0))
            _hold(device, clock, hold_s)
            faults += device.drain_faults()
    samples = probes.samples()
    net = np.cumsum(samples) / 2000.0
    assert np.max(np.abs(net), initial=0.0) <= HOME.max_imbalance_uc.value + 1e-6
    if samples.size:
        assert _worst_window_uc(samples, 2000.0, 10.0) <= 1000.0 + 1e-6
    for fault in faults:
        if fault.code == FaultCode.CHARGE_IMBALANCE:
            assert fault.zero_t_s is not None
            index = round(fault.zero_t_s * 2000.0)
            until = min([a for a in applied_at if a > index], default=samples.size)
            assert np.all(samples[index:until] == 0.0)


def test_the_sound_card_keeps_one_account_across_stops_and_reapplies() -> None:
    clock = SimulatedClock()
    streams: list[FakeStream] = []

    def factory(**settings: Any) -> FakeStream:
        streams.append(FakeStream(**settings))
        return streams[-1]

    device = AudioDevice(clock, HOME, factory, coupling="dc", sample_rate_hz=8000.0, block_size=800)
    pulled: list[np.ndarray] = []
    faults = []
    with device:
        for _ in range(6):  # 6 x 5 s of 50 µA one way: 1.5 mC without the account
            device.apply(Command(POSITIVE, expires_after_s=2.0))
            for _ in range(50):
                clock.sleep(0.1)
                pulled.append(streams[0].pull(1).astype(np.float64) * device.full_scale_ua)
                device.heartbeat()
            device.stop()
            faults += device.drain_faults()
    assert FaultCode.CHARGE_IMBALANCE in {f.code for f in faults}
    net_uc = float(np.sum(np.concatenate(pulled))) / 8000.0
    # float32 output: the sum of 240 000 samples carries a little rounding
    assert net_uc <= HOME.max_imbalance_uc.value + 0.01
    assert device.charge.net_uc == pytest.approx(net_uc, abs=0.01)
