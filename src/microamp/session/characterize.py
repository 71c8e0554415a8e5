"""Characterise a stimulator's output into the regulator's test loads, from what was delivered.

Every figure comes from the simulator's probes (`microamp.devices.sim.Probes`): each waveform
family is driven through `Device.apply` under a `Supervisor` (the limits, the output guard, the
device's own trip and the telemetry monitor) into each load, on simulated time, and the current
that flowed into the load is measured over the last whole cycle of the run (after the intensity
ramp). Beside the waveform table come the lowest setting as a share of the highest (IEC
60601-2-10: at most 2 %) and the reaction to each injected fault (time from the fault to zero
output). A device that renders its own output is measured from its telemetry instead
(`microamp.session.characterize_telemetry`); a sound card, which has none, is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import numpy.typing as npt

from microamp.clock import SimulatedClock
from microamp.devices.base import Command
from microamp.devices.injection import FAULT_KINDS
from microamp.devices.load import LOAD_PRESETS, LoadResult
from microamp.devices.sim import SimDevice, SimSettings
from microamp.devices.supervisor import Supervisor
from microamp.devices.urls import parse_device_url
from microamp.errors import InvalidValue
from microamp.safety.limits import LimitProfile
from microamp.session.characterize_report import (
    FAULT_REACTION_LIMIT_S,
    LOWEST_SETTING_LIMIT_PCT,
    Characterization,
    FaultReaction,
    LowestSetting,
    WaveformRow,
)
from microamp.stimulus.metrics import measure, phase_charges_uc
from microamp.stimulus.waveform import Waveform

__all__ = [
    "CHARACTERIZE_LOADS",
    "FAULT_REACTION_LIMIT_S",
    "LOWEST_SETTING_LIMIT_PCT",
    "NO_TELEMETRY",
    "Characterization",
    "characterize",
    "lowest_setting_pct",
    "run_s_for",
    "sim_url_for",
    "waveform_families",
]

FloatArray = npt.NDArray[np.float64]

CHARACTERIZE_LOADS: tuple[str, ...] = ("r500", "r2k", "r10k", "gel", "dry")
# A measured current within 1 % of the command (and 0.5 µA for rounding) counts as delivered.
DELIVERY_TOLERANCE = 0.01
TICK_S = 0.01
AMPLITUDE_UA = 100.0
FREQUENCY_HZ = 10.0
FAULT_AT_S = 0.6
FAULT_RUN_S = 1.8
NO_TELEMETRY = (
    "has no telemetry: a sound card cannot measure what it delivers, so nothing can be "
    "characterised (render the output with `microamp render` and measure the chain instead)"
)


def waveform_families(amplitude_ua: float = AMPLITUDE_UA) -> dict[str, Waveform]:
    """One waveform of each family, at ``amplitude_ua`` and 10 Hz."""
    period_s = 1.0 / FREQUENCY_HZ
    return {
        "square": Waveform("square", amplitude_ua, FREQUENCY_HZ, 0.5, "positive"),
        "biphasic": Waveform(
            "pulse", amplitude_ua, FREQUENCY_HZ, polarity="biphasic", phase_us=1000.0
        ),
        "sine": Waveform("sine", amplitude_ua, FREQUENCY_HZ, polarity="positive"),
        # the sign flips every period, so a whole cycle is two periods
        "alternating": Waveform(
            "square", amplitude_ua, FREQUENCY_HZ, 0.5, "alternating", reversal_s=period_s
        ),
    }


def cycle_s(waveform: Waveform) -> float:
    """How long the waveform takes to repeat exactly."""
    if waveform.polarity == "alternating":
        return max(waveform.period_s, 2.0 * waveform.reversal_s)
    return waveform.period_s


def lowest_setting_pct(lowest_ua: float, highest_ua: float) -> float:
    """The lowest non-zero setting as a percentage of the highest."""
    if not (math.isfinite(highest_ua) and highest_ua > 0):
        raise InvalidValue("highest_ua", highest_ua, "must be greater than 0 µA")
    return 100.0 * lowest_ua / highest_ua


def sim_url_for(url: str, load: str) -> str:
    """``url`` (a sim:// URL) into ``load``, without noise or a start ramp unless it sets them."""
    if load not in LOAD_PRESETS:
        raise InvalidValue("load", load, f"must be one of {', '.join(LOAD_PRESETS)}")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "load"]
    given = {k for k, _ in query}
    query.append(("load", load))
    for name in ("noise_ua", "noise_v", "ramp_s"):
        if name not in given:
            query.append((name, "0"))
    return f"sim://?{urlencode(query)}"


class _Recorder:
    """A probes hook that keeps every sample (runs here last a couple of seconds)."""

    def __init__(self) -> None:
        self.commanded: list[FloatArray] = []
        self.delivered: list[FloatArray] = []
        self.voltage: list[FloatArray] = []

    def __call__(self, start: int, commanded_ua: FloatArray, result: LoadResult) -> None:
        self.commanded.append(commanded_ua.copy())
        self.delivered.append(result.delivered_ua.copy())
        self.voltage.append(result.voltage_v.copy())

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        def joined(blocks: list[FloatArray]) -> FloatArray:
            return np.concatenate(blocks) if blocks else np.zeros(0)

        return joined(self.commanded), joined(self.delivered), joined(self.voltage)


@dataclass
class _Run:
    commanded_ua: FloatArray
    delivered_ua: FloatArray
    voltage_v: FloatArray
    rate_hz: float
    compliance_v: float
    faults: list[dict[str, Any]]


def _drive(
    url: str, profile: LimitProfile, command: Command, duration_s: float, fault: str = ""
) -> _Run:
    """Drive ``command`` for ``duration_s`` of device time under a `Supervisor`."""
    if fault:
        url = f"{url}&fault={fault}"
    recorder = _Recorder()
    settings = SimSettings.from_url(parse_device_url(url), profile)
    faults: list[dict[str, Any]] = []
    with SimDevice(SimulatedClock(), profile, settings, probes=recorder) as device:
        supervisor = Supervisor(device, profile, adapt=False)
        supervisor.apply(command)
        clock = device.clock
        while supervisor.running and clock.now() < duration_s - 1e-9:
            clock.sleep(min(TICK_S, duration_s - clock.now()))
            faults += [f.to_dict() for f in supervisor.service().faults]
        supervisor.stop()
    commanded, delivered, voltage = recorder.arrays()
    return _Run(commanded, delivered, voltage, settings.rate_hz, settings.compliance_v, faults)


def _waveform_row(
    name: str, waveform: Waveform, load: str, run: _Run, area_cm2: float
) -> WaveformRow:
    window = round(cycle_s(waveform) * run.rate_hz)
    period = round(waveform.period_s * run.rate_hz)
    delivered = run.delivered_ua[-window:]
    commanded = run.commanded_ua[-window:]
    metrics = measure(delivered, run.rate_hz, electrode_area_cm2=area_cm2)
    per_pulse = float(np.sum(run.delivered_ua[-period:])) / run.rate_hz
    phases = phase_charges_uc(delivered, run.rate_hz)
    shortfall = float(np.max(np.abs(commanded - delivered))) if window else math.inf
    tracked = bool(window) and shortfall <= DELIVERY_TOLERANCE * waveform.amplitude_ua + 0.5
    # at least the command's peak must have flowed, or the measure is of a ramp or a trip
    reached = metrics.peak_ua >= (1 - DELIVERY_TOLERANCE) * waveform.amplitude_ua
    return WaveformRow(
        waveform=name,
        load=load,
        peak_ua=metrics.peak_ua,
        mean_abs_ua=float(np.mean(np.abs(delivered))) if window else 0.0,
        rms_ua=metrics.rms_ua,
        dc_ua=metrics.mean_ua,
        net_charge_per_pulse_uc=per_pulse,
        max_phase_charge_uc=float(np.max(np.abs(phases))) if phases.size else 0.0,
        density_ua_cm2=metrics.rms_density_ma_cm2 * 1000.0,
        headroom_v=run.compliance_v - float(np.max(np.abs(run.voltage_v[-window:]))),
        delivered=tracked and reached,
        faults=[str(f["code"]) for f in run.faults],
        plot_ua=[round(float(v), 3) for v in delivered],
        plot_rate_hz=run.rate_hz,
    )


def run_s_for(waveform: Waveform, profile: LimitProfile, start_ramp_s: float = 0.0) -> float:
    """Long enough for the device's start ramp and the slew-limited rise, then two cycles."""
    ramp_s = start_ramp_s + waveform.amplitude_ua / profile.max_slew_ua_s.value
    return math.ceil((ramp_s + 2.0 * cycle_s(waveform)) * FREQUENCY_HZ) / FREQUENCY_HZ


def _lowest_setting(
    url: str, profile: LimitProfile, step_ua: float, start_ramp_s: float
) -> LowestSetting:
    """Deliver the smallest and the largest setting of a square into r500 and compare peaks."""
    probe = SimDevice(
        SimulatedClock(), profile, SimSettings.from_url(parse_device_url(url), profile)
    )
    highest = Waveform("square", profile.max_amplitude_ua.value, FREQUENCY_HZ, 0.5, "alternating")
    ceiling_ua = probe.ceiling_ua(Command(highest))
    # the lowest non-zero setting is one step of the output stage, if that is coarser
    lowest_ua = max(step_ua, probe.capabilities.current_step_ua)
    probe.close()
    peaks: list[float] = []
    for amplitude_ua in (lowest_ua, ceiling_ua):
        waveform = Waveform(
            "square", amplitude_ua, FREQUENCY_HZ, 0.5, "alternating", reversal_s=0.1
        )
        run = _drive(url, profile, Command(waveform), run_s_for(waveform, profile, start_ramp_s))
        window = round(cycle_s(waveform) * run.rate_hz)
        peaks.append(float(np.max(np.abs(run.delivered_ua[-window:]))))
    return LowestSetting(peaks[0], peaks[1], lowest_setting_pct(peaks[0], peaks[1]))


def _fault_reaction(url: str, profile: LimitProfile, kind: str) -> FaultReaction:
    """Inject ``kind`` into a gelled face mid-run; the time from it to zero output."""
    waveform = waveform_families()["alternating"]
    run = _drive(url, profile, Command(waveform), FAULT_RUN_S, f"{kind}@{FAULT_AT_S:g}")
    fault_index = round(FAULT_AT_S * run.rate_hz)
    after = run.commanded_ua[fault_index:]
    nonzero = np.flatnonzero(after)
    stopped = run.commanded_ua.size < round(FAULT_RUN_S * run.rate_hz) or (
        nonzero.size == 0 or nonzero[-1] < after.size - 1 - round(cycle_s(waveform) * run.rate_hz)
    )
    reaction_s = (int(nonzero[-1]) + 1 if nonzero.size else 0) / run.rate_hz if stopped else None
    shortfall = np.abs(after - run.delivered_ua[fault_index:])
    tolerance_ua = DELIVERY_TOLERANCE * waveform.amplitude_ua + 0.5
    return FaultReaction(
        kind=kind,
        reaction_s=reaction_s,
        delivered_after=bool(shortfall.size and float(np.max(shortfall)) <= tolerance_ua),
        faults=[str(f["code"]) for f in run.faults],
    )


def characterize(
    device_url: str,
    profile: LimitProfile,
    *,
    electrode_area_cm2: float,
    step_ua: float = 1.0,
    loads: tuple[str, ...] = CHARACTERIZE_LOADS,
    load: str | None = None,
    watch_s: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> Characterization:
    """Characterise the device ``device_url`` (see the module docstring).

    A sim device is driven into each of ``loads``; any other device that reports telemetry
    (``serial://``) into the one ``load`` attached to it, measured from its frames
    (`microamp.session.characterize_telemetry`, with ``watch_s`` to time the faults it reports);
    an ``audio://`` device, which has no telemetry, is refused. Raises `InvalidValue`.
    """
    if not (math.isfinite(electrode_area_cm2) and electrode_area_cm2 > 0):
        raise InvalidValue("electrode_area_cm2", electrode_area_cm2, "must be greater than 0 cm²")
    if not (math.isfinite(step_ua) and 0 < step_ua <= profile.max_amplitude_ua.value):
        raise InvalidValue(
            "step_ua", step_ua, f"must be above 0 and at most {profile.max_amplitude_ua.value:g} µA"
        )
    scheme = urlsplit(device_url).scheme
    if scheme == "audio":
        raise InvalidValue("device_url", device_url, NO_TELEMETRY)
    if scheme == "sim" and watch_s:
        raise InvalidValue(
            "watch_s",
            watch_s,
            "is for a device other than sim://, whose faults are injected in turn",
        )
    if scheme != "sim":
        return _characterize_other(
            device_url, profile, load, electrode_area_cm2, step_ua, watch_s, progress
        )
    # every parameter checked once as given; the load in it is then replaced by each test load
    given = SimSettings.from_url(parse_device_url(device_url), profile)
    if given.faults:
        raise InvalidValue(
            "device_url", device_url, "must not inject faults: each kind is injected in turn"
        )
    say = progress or (lambda _message: None)
    rows: list[WaveformRow] = []
    for test_load in loads:
        url = sim_url_for(device_url, test_load)
        for name, waveform in waveform_families().items():
            say(f"{name} into {test_load}")
            run_s = run_s_for(waveform, profile, given.ramp_s)
            run = _drive(url, profile, Command(waveform), run_s)
            rows.append(_waveform_row(name, waveform, test_load, run, electrode_area_cm2))
    say("lowest setting into r500")
    lowest = _lowest_setting(sim_url_for(device_url, "r500"), profile, step_ua, given.ramp_s)
    reactions: list[FaultReaction] = []
    for kind in FAULT_KINDS:
        say(f"fault reaction: {kind}")
        reactions.append(_fault_reaction(sim_url_for(device_url, "gel"), profile, kind))
    return Characterization(device_url, profile.name, electrode_area_cm2, rows, lowest, reactions)


def _characterize_other(
    device_url: str,
    profile: LimitProfile,
    load: str | None,
    electrode_area_cm2: float,
    step_ua: float,
    watch_s: float,
    progress: Callable[[str], None] | None,
) -> Characterization:
    from microamp.session.characterize_telemetry import characterize_telemetry

    if load is None:
        raise InvalidValue(
            "load", None, "is required for a device other than sim://: what is attached"
        )
    return characterize_telemetry(
        device_url,
        profile,
        load=load,
        electrode_area_cm2=electrode_area_cm2,
        step_ua=step_ua,
        watch_s=watch_s,
        progress=progress,
    )
