"""Oscilloscope-style plots of a waveform, with the profile's limits drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from microamp.safety.limits import LimitProfile
from microamp.stimulus.renderer import render_steady
from microamp.stimulus.waveform import Waveform

__all__ = ["plot_waveform"]

_SCREEN = "#0b1a12"
_TRACE = "#39ff88"
_GRID = "#1f4d33"
_LIMIT = "#ff5c5c"
_ZONE = "#ffb347"


def plot_waveform(
    waveform: Waveform,
    profile: LimitProfile,
    out: Path,
    *,
    duration_s: float,
    sample_rate_hz: float = 100_000.0,
) -> Path:
    """Draw ``duration_s`` of the steady waveform into ``out`` (.png or .svg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = render_steady(waveform, duration_s, sample_rate_hz)
    t_ms = np.arange(samples.size) / sample_rate_hz * 1000.0
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    try:
        fig.patch.set_facecolor(_SCREEN)
        ax.set_facecolor(_SCREEN)
        ax.plot(t_ms, samples, color=_TRACE, linewidth=1.3, label="current")
        cap = profile.max_amplitude_ua.value
        for sign in (1, -1):
            ax.axhline(sign * cap, color=_LIMIT, linestyle="--", linewidth=1)
        ax.text(
            t_ms[-1], cap, f" {profile.name} max {cap:g} µA", color=_LIMIT, va="bottom", ha="right"
        )
        eyes = profile.zone_caps_ua.get("eyes")
        if eyes is not None and eyes.value < cap:
            for sign in (1, -1):
                ax.axhline(sign * eyes.value, color=_ZONE, linestyle=":", linewidth=1)
            ax.text(
                t_ms[-1],
                eyes.value,
                f" eye-area cap {eyes.value:g} µA",
                color=_ZONE,
                va="bottom",
                ha="right",
            )
        span = max(cap, float(np.max(np.abs(samples))) if samples.size else cap) * 1.15
        ax.set_ylim(-span, span)
        ax.set_xlim(t_ms[0], t_ms[-1])
        ax.grid(True, color=_GRID, linewidth=0.6)
        ax.set_xlabel("time (ms)", color="white")
        ax.set_ylabel("current (µA)", color="white")
        ax.tick_params(colors="white")
        for spine in ax.spines.values():
            spine.set_color(_GRID)
        ax.set_title(
            f"{waveform.shape}, {waveform.amplitude_ua:g} µA, {waveform.frequency_hz:g} Hz, "
            f"{waveform.polarity}",
            color="white",
        )
        fig.tight_layout()
        fig.savefig(out, facecolor=fig.get_facecolor())
    finally:
        plt.close(fig)
    return out
