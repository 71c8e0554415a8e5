"""The stimulus engine: renderer plus output guard at 20 kHz in 1 ms blocks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from microamp.safety import GuardLimits, OutputGuard, get_profile
from microamp.stimulus import Envelope, Renderer, Waveform

RATE_HZ = 20_000.0
BLOCK = 20  # 1 ms at 20 kHz
WAVEFORM = Waveform(shape="ramped-square", amplitude_ua=300.0, frequency_hz=10.0, rise_s=0.002)


def _best_per_call_s(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """The best of ``repeats`` timings of ``calls`` calls, per call: the least disturbed run."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def _engine_block(block: int = BLOCK) -> Callable[[], object]:
    profile = get_profile("home")
    renderer = Renderer(
        WAVEFORM, RATE_HZ, block_size=block, envelope=Envelope(0.5, 0.5),
        max_slew_ua_s=profile.max_slew_ua_s.value,
    )  # fmt: skip
    guard = OutputGuard(GuardLimits.from_profile(profile), RATE_HZ)

    def block() -> object:
        out = renderer.render()
        return guard.process(out.samples_ua, out.envelope_ua)

    return block


def _numpy_floor() -> Callable[[], object]:
    source = np.linspace(-1.0, 1.0, BLOCK)
    target = np.empty(BLOCK)
    return lambda: np.copyto(target, source)


def _python_samples() -> Iterator[float]:
    """The straightforward way: one Python step per sample, same waveform, ramp and checks."""
    wf = WAVEFORM
    period_s = 1.0 / wf.frequency_hz
    on_s = wf.duty * period_s
    slew_per_sample = get_profile("home").max_slew_ua_s.value / RATE_HZ
    level = 0.0
    net_uc = 0.0
    n = 0
    while True:
        t = n / RATE_HZ
        level = min(level + slew_per_sample, wf.amplitude_ua)
        pos = t % period_s
        value = min(pos / wf.rise_s, (on_s - pos) / wf.rise_s, 1.0) if pos < on_s else 0.0
        sign = 1.0 if int(t / wf.reversal_s) % 2 == 0 else -1.0
        sample = sign * level * max(value, 0.0)
        if not math.isfinite(sample) or abs(sample) > 400.0:
            sample = 0.0
        net_uc += sample / RATE_HZ
        n += 1
        yield sample


def _python_block(size: int = BLOCK) -> Callable[[], object]:
    samples = _python_samples()
    out = np.empty(size)

    def block() -> object:
        for i in range(size):
            out[i] = next(samples)
        return out

    return block


def _speedup_by_block(samples: int) -> dict[str, float]:
    """Vectorising pays more as blocks grow: the ratio at 1, 10 and 100 ms blocks."""
    ratios = {}
    for size in (20, 200, 2000):
        calls = max(1, samples // size)
        engine_s = _best_per_call_s(_engine_block(size), calls)
        python_s = _best_per_call_s(_python_block(size), max(1, calls // 4))
        ratios[f"{size / RATE_HZ * 1e3:g}ms"] = python_s / engine_s
    return ratios


def run(quick: bool = False) -> dict[str, Any]:
    calls = 200 if quick else 20_000
    block_s = BLOCK / RATE_HZ
    engine_s = _best_per_call_s(_engine_block(), calls)
    floor_s = _best_per_call_s(_numpy_floor(), calls)
    python_s = _best_per_call_s(_python_block(), calls // 4)
    return {
        "engine": {
            "sample_rate_hz": RATE_HZ,
            "block_samples": BLOCK,
            "block_duration_ms": block_s * 1e3,
            "block_cost_us": engine_s * 1e6,
            "block_cost_fraction_of_duration": engine_s / block_s,
            "goal_fraction": 0.01,
            "numpy_copyto_floor_us": floor_s * 1e6,
            "ratio_to_numpy_floor": engine_s / floor_s,
            "python_per_sample_block_us": python_s * 1e6,
            "speedup_over_python_per_sample": python_s / engine_s,
            "speedup_over_python_by_block": _speedup_by_block(4_000 if quick else 200_000),
        }
    }
