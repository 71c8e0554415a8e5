"""`SimDevice`, the ``sim`` backend: a constant-current stimulator into a simulated face.

``sim://?load=gel&seed=1&fault=contact-loss@5`` renders the command through the engine's
`Renderer` and the `OutputGuard` (limits from the profile, the peak lowered to the command's
zone cap and the device's maximum), drives the electrode-skin load of `microamp.devices.load`
with a compliance voltage, trips on its own when the load stops taking the current
(`ShortfallTrip`), and reports telemetry frames with seeded measurement noise. Net charge is
kept in one `ChargeAccount` for the device's whole life (see `microamp.safety.charge`): no
re-apply, step, stop or start resets it, so a session cannot pass the profile's accumulated
imbalance or its mean-DC limit by any sequence of commands.

It renders up to ``clock.now()`` whenever the host touches it, so on a `SimulatedClock` a session
runs as fast as the CPU allows, and identically for the same seed.

When a command expires (no heartbeat within its ``expires_after_s``), output goes to zero at
that sample on its own and the device records a ``command_expired`` fault: the host that
forgot to renew is at fault, and the record should say so.

URL parameters (all optional):
    load=gel|wet|dry|lifted|r500|r2k|r10k   preset (`microamp.devices.load`: skin loads with a
                              constant-phase element per electrode, and pure test resistors)
    rs_ohm=, rp_ohm=, q_us=, alpha=   override the series resistance and, on both electrodes,
                              the interface's resistance, CPE Q (µS s**alpha) and alpha
    contact1=, contact2=wet|dry|lifted   one electrode's contact (dry: the dry interface)
    compliance_v=40           the source's compliance (at most the profile's max_compliance_v)
    max_ua=1000               the device's maximum current
    step_ua=0                 the output stage's step (a coarse DAC); 0: continuous
    rate_hz=20000             samples per second;  telemetry_hz=100  frames per second
    noise_ua=0.5, noise_v=0.01   measurement noise (standard deviation per frame)
    seed=0                    noise seed;  ramp_s=1  full-scale ramp up on a fresh start
    trip_ms=0.5               how long a shortfall lasts before the device trips
    fault=KIND[:E]@SECONDS    injected faults (repeatable): contact-loss, dry, drying,
                              disconnect, stall; E (1 or 2) names one electrode
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from microamp.clock import Clock
from microamp.devices.base import Capabilities, Command, Device, TelemetryFrame
from microamp.devices.frames import FrameMeter
from microamp.devices.injection import InjectedFault, parse_injected_faults
from microamp.devices.load import (
    DRY_ELECTRODE,
    LOAD_PRESETS,
    Electrode,
    LoadModel,
    LoadParams,
    LoadResult,
)
from microamp.devices.protection import ShortfallTrip
from microamp.devices.urls import DeviceURL
from microamp.errors import DeviceError, DeviceURLError, InvalidValue
from microamp.safety.charge import ChargeAccount
from microamp.safety.faults import Fault, FaultCode
from microamp.safety.guard import GuardLimits, OutputGuard
from microamp.safety.limits import LimitProfile
from microamp.stimulus.renderer import Envelope, Renderer

__all__ = ["Probes", "SimDevice", "SimSettings", "sim_id"]

FloatArray = npt.NDArray[np.float64]

# Receives every block of current the source drove (µA per sample), from absolute sample index
# ``start``: an instrument on the probes, for measurements and tests.
Tap = Callable[[int, npt.NDArray[np.float64]], None]

# Receives every block as the probes carried it: from absolute sample index ``start``, the current
# the source drove and, from the load, what flowed and the voltage it took (`LoadResult`).
Probes = Callable[[int, npt.NDArray[np.float64], LoadResult], None]

# The longest block rendered at once: bounds memory, not behaviour.
MAX_BLOCK = 4096
_SIM_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")


class SimSettings:
    """Every setting of a simulated device, checked. Built from a URL by `from_url`."""

    def __init__(
        self,
        load: LoadParams | None = None,
        *,
        compliance_v: float = 40.0,
        max_ua: float = 1000.0,
        rate_hz: float = 20_000.0,
        telemetry_hz: float = 100.0,
        noise_ua: float = 0.5,
        noise_v: float = 0.01,
        seed: int = 0,
        ramp_s: float = 1.0,
        trip_ms: float = 0.5,
        faults: list[InjectedFault] | None = None,
        load_name: str = "gel",
        step_ua: float = 0.0,
    ) -> None:
        self.load = load or LOAD_PRESETS["gel"]
        self.load_name = load_name
        self.compliance_v = compliance_v
        self.max_ua = max_ua
        self.rate_hz = rate_hz
        self.frame_samples = max(1, round(rate_hz / telemetry_hz))
        self.noise_ua = noise_ua
        self.noise_v = noise_v
        self.seed = seed
        self.ramp_s = ramp_s
        self.trip_samples = max(1, round(trip_ms * 1e-3 * rate_hz))
        self.faults = sorted(faults or [])
        self.step_ua = step_ua

    @classmethod
    def from_url(cls, url: DeviceURL, profile: LimitProfile) -> SimSettings:
        """Read every sim parameter; raise `DeviceURLError` naming a bad or unknown one."""
        sim_id(url)
        name = url.text("load", "gel", choices=tuple(LOAD_PRESETS))
        load = _custom_load(url, LOAD_PRESETS[name])
        max_compliance_v = profile.max_compliance_v.value
        settings = cls(
            load,
            compliance_v=url.number("compliance_v", 40.0, low=1.0, high=max_compliance_v),
            max_ua=url.number("max_ua", 1000.0, low=0, high=1000.0, low_open=True),
            rate_hz=url.number("rate_hz", 20_000.0, low=1000.0, high=1e6),
            telemetry_hz=url.number("telemetry_hz", 100.0, low=1.0, high=1000.0),
            noise_ua=url.number("noise_ua", 0.5, low=0.0, high=100.0),
            noise_v=url.number("noise_v", 0.01, low=0.0, high=10.0),
            seed=url.integer("seed", 0),
            ramp_s=url.number("ramp_s", 1.0, low=0.0, high=60.0),
            trip_ms=url.number("trip_ms", 0.5, low=0.0, high=1000.0, low_open=True),
            faults=parse_injected_faults(url.every("fault")),
            load_name=name,
            step_ua=url.number("step_ua", 0.0, low=0.0, high=1000.0),
        )
        if url.location not in ("", "/"):
            raise DeviceURLError("url", url.url, "sim:// takes no location: write sim://?load=gel")
        url.finish()
        return settings


def sim_id(url: DeviceURL) -> str:
    """The simulator's own name (``sim://?id=room-2``), empty for the default one. Simulators
    with different ids are different devices: each has its own lease and its own station.
    Raises `DeviceURLError` for an id that is not 1-40 letters, digits, ``.``, ``_`` or ``-``."""
    values = url.every("id")
    if len(values) > 1:
        raise DeviceURLError("id", values[-1], "may be given once")
    if values and not _SIM_ID.fullmatch(values[0]):
        raise DeviceURLError("id", values[0], "must be 1-40 letters, digits, '.', '_' or '-'")
    return values[0] if values else ""


def _custom_load(url: DeviceURL, preset: LoadParams) -> LoadParams:
    """The preset with any of the URL's load parameters in place of its own."""
    first = preset.electrodes[0]
    rs_ohm = url.number("rs_ohm", preset.rs_ohm, low=0, high=1e9, low_open=True)
    changes = {
        "r_ohm": url.number("rp_ohm", first.r_ohm, low=0, high=1e10),
        "q_us": url.number("q_us", first.q_us, low=0, high=1e6, low_open=True),
        "alpha": url.number("alpha", first.alpha, low=0.4, high=0.95),
    }
    pair = []
    for index, electrode in enumerate(preset.electrodes):
        if any(url.text(p, "") for p in ("rp_ohm", "q_us", "alpha")):
            electrode = _valid_electrode(url, replace(electrode, **changes))  # type: ignore[arg-type]
        contact = url.text(f"contact{index + 1}", "", choices=("", "wet", "dry", "lifted"))
        if contact == "dry":
            electrode = DRY_ELECTRODE
        elif contact:
            electrode = replace(electrode, contact=contact)  # type: ignore[arg-type]
        pair.append(electrode)
    return LoadParams(rs_ohm, (pair[0], pair[1]))


def _valid_electrode(url: DeviceURL, electrode: Electrode) -> Electrode:
    try:
        return Electrode(electrode.r_ohm, electrode.q_us, electrode.alpha, electrode.contact)
    except InvalidValue as refused:
        name = {"r_ohm": "rp_ohm"}.get(refused.field, refused.field)
        raise DeviceURLError(name, url.text(name, str(refused.value)), refused.rule) from None


class SimDevice(Device):
    """A simulated constant-current stimulator (see the module docstring)."""

    backend: ClassVar[str] = "sim"
    url_parameters: ClassVar[Mapping[str, str]] = {"current_step_ua": "step_ua"}

    def __init__(
        self,
        clock: Clock,
        profile: LimitProfile,
        settings: SimSettings | None = None,
        *,
        tap: Tap | None = None,
        probes: Probes | None = None,
    ):
        super().__init__(clock, profile)
        self._tap = tap
        self._probes = probes
        self.settings = s = settings or SimSettings()
        self._caps = Capabilities(
            backend="sim",
            max_current_ua=s.max_ua,
            compliance_v=s.compliance_v,
            sample_rate_hz=s.rate_hz,
            model=f"microamp simulator ({s.load_name} load)",
            current_step_ua=s.step_ua,
        )
        self.load = LoadModel(s.load, s.rate_hz, s.compliance_v)
        self._index = math.floor(clock.now() * s.rate_hz + 1e-6)
        self._meter = FrameMeter(
            s.rate_hz, s.frame_samples, noise_ua=s.noise_ua, noise_v=s.noise_v, seed=s.seed
        )
        self._trip = ShortfallTrip(s.trip_samples)
        # one account for the device's whole life: every guard it makes charges it
        self.charge = ChargeAccount.from_profile(profile, s.rate_hz)
        self._events = list(s.faults)
        self._renderer: Renderer | None = None
        self._guard: OutputGuard | None = None
        self._guard_origin = 0
        self._frames: list[TelemetryFrame] = []
        self._stalled = False
        self._disconnected = False
        self.delivered_uc = 0.0

    @classmethod
    def from_url(cls, url: DeviceURL, *, clock: Clock, profile: LimitProfile) -> SimDevice:
        return cls(clock, profile, SimSettings.from_url(url, profile))

    @property
    def charge_account(self) -> ChargeAccount:
        return self.charge

    def _set_charge_account(self, account: ChargeAccount) -> None:
        self.charge = account

    @classmethod
    def availability(cls) -> str | None:
        return None

    def _step(self, guarded_ua: FloatArray) -> FloatArray:
        """The guarded samples as the output stage can make them: each rounded toward zero to
        a whole step, so no sample grows past what the guard passed."""
        step_ua = self.settings.step_ua
        if step_ua <= 0.0:
            return guarded_ua.copy()
        # a hair over one so that a whole number of steps is not lost to float rounding
        return np.trunc(guarded_ua / step_ua * (1.0 + 1e-12)) * step_ua

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    @property
    def time_s(self) -> float:
        """Device time rendered so far, seconds."""
        return self._index / self.settings.rate_hz

    @property
    def output_on(self) -> bool:
        """True while the source is driving a command (even at zero level)."""
        return self._renderer is not None

    # -- driver hooks --------------------------------------------------------------------------

    def _apply(self, command: Command) -> None:
        if self._disconnected:
            raise DeviceError("the sim device is disconnected")
        peak_ua = self.ceiling_ua(command)
        limits = GuardLimits.from_profile(self.profile, peak_ua=peak_ua)
        if self._renderer is None or self._guard is None:
            self._start(command, limits)
            return
        self._guard.set_limits(limits)
        if command.waveform != self._renderer.waveform:
            self._renderer.set_waveform(command.waveform)
        self._renderer.set_intensity(command.intensity)

    def _start(self, command: Command, limits: GuardLimits) -> None:
        s = self.settings
        self._renderer = Renderer(
            command.waveform,
            s.rate_hz,
            block_size=MAX_BLOCK,
            envelope=Envelope(ramp_up_s=s.ramp_s, ramp_down_s=s.ramp_s),
            intensity=command.intensity,
            max_slew_ua_s=self.profile.max_slew_ua_s.value,
        )
        self._guard = OutputGuard(limits, s.rate_hz, self.charge)
        self._guard_origin = self._index
        self._trip.reset()

    def _stop(self) -> None:
        self._renderer = None
        self._guard = None

    def _read(self) -> list[TelemetryFrame]:
        frames, self._frames = self._frames, []
        return frames

    def _advance(self) -> None:
        target = math.floor(self.clock.now() * self.settings.rate_hz + 1e-6)
        while True:
            self._fire_due()
            if self._index >= target:
                return
            end = min(target, self._index + MAX_BLOCK, self._next_boundary())
            self._render(end - self._index)

    # -- time line -----------------------------------------------------------------------------

    def _to_index(self, t_s: float) -> int:
        return math.ceil(t_s * self.settings.rate_hz - 1e-6)

    def _next_boundary(self) -> int:
        candidates = [self._to_index(e.t_s) for e in self._events]
        if self._renderer is not None and self._expires_at_s is not None:
            candidates.append(self._to_index(self._expires_at_s))
        later = [c for c in candidates if c > self._index]
        return min(later, default=self._index + MAX_BLOCK)

    def _fire_due(self) -> None:
        while self._events and self._to_index(self._events[0].t_s) <= self._index:
            self._inject(self._events.pop(0))
        expires = self._expires_at_s
        if self._renderer is not None and expires is not None:
            if self._to_index(expires) <= self._index:
                self._zero_with(Fault.of(FaultCode.COMMAND_EXPIRED, **self._times(self._index)))

    def _inject(self, event: InjectedFault) -> None:
        params = self.load.params
        if event.kind == "contact-loss":
            which = 1 if event.electrode is None else event.electrode
            self.load.set_params(params.with_contact(which, "lifted"))
        elif event.kind == "dry":
            if event.electrode is None:
                self.load.set_params(LOAD_PRESETS["dry"])
            else:
                self.load.set_params(params.with_electrode(event.electrode, DRY_ELECTRODE))
        elif event.kind == "drying":
            which = 1 if event.electrode is None else event.electrode
            wet = self.settings.load.electrodes[which]
            drying = _drying(wet, event.stage)
            if params.electrodes[which].lifted:
                drying = replace(drying, contact="lifted")
            self.load.set_params(params.with_electrode(which, drying))
        elif event.kind == "stall":
            self._stalled = True
            self._meter.skip()
        elif event.kind == "disconnect":
            self._disconnected = True
            self._stalled = True
            self._meter.skip()
            self._zero_with(Fault.of(FaultCode.DISCONNECTED, **self._times(self._index)))

    def _times(self, index: int, onset_index: int | None = None) -> dict[str, float]:
        rate = self.settings.rate_hz
        onset = index if onset_index is None else onset_index
        return {"onset_t_s": onset / rate, "detected_t_s": index / rate, "zero_t_s": index / rate}

    def _zero_with(self, fault: Fault) -> None:
        self._stop()
        self._raise_fault(fault)

    # -- rendering -----------------------------------------------------------------------------

    def _render(self, n: int) -> None:
        start = self._index
        fault: Fault | None = None
        fault_offset = n
        if self._renderer is not None and self._guard is not None:
            block = self._renderer.render(n)
            commanded = self._step(self._guard.process(block.samples_ua, block.envelope_ua))
            if self._guard.fault is not None:
                index = self._guard_origin + int(self._guard.fault.detail.get("sample_index", 0))
                fault = Fault.of(
                    self._guard.fault.code,
                    **self._times(index),
                    detail=dict(self._guard.fault.detail),
                )
                fault_offset = index - start
        else:
            commanded = np.zeros(n)
            self.charge.idle(n)
        before = self.load.state
        result = self.load.step(commanded)
        if self._renderer is not None:
            trip = self._trip.check(commanded, result.delivered_ua, result.saturated)
            if trip is not None and trip.index < fault_offset:
                # zero from the trip sample on and run the load again from the block's start
                commanded[trip.index :] = 0.0
                self.load.restore(before)
                result = self.load.step(commanded)
                onset = start + trip.onset
                fault = Fault.of(trip.code, **self._times(start + trip.index, onset))
        self._index = start + n
        if self._tap is not None:
            self._tap(start, commanded.copy())
        if self._probes is not None:
            self._probes(start, commanded, result)
        self.delivered_uc += float(np.sum(np.abs(result.delivered_ua))) / self.settings.rate_hz
        if not self._stalled:
            self._frames.extend(
                self._meter.add(
                    start,
                    commanded,
                    result.delivered_ua,
                    result.voltage_v,
                    result.saturated,
                    open_circuit=self.load.params.open_circuit,
                )
            )
        if fault is not None:
            self._zero_with(fault)


def _drying(wet: Electrode, stage: float) -> Electrode:
    """An interface ``stage`` of the way from its own values to the dry ones."""
    if stage >= 1.0:
        return DRY_ELECTRODE
    dry = DRY_ELECTRODE
    return Electrode(
        wet.r_ohm ** (1 - stage) * dry.r_ohm**stage if wet.r_ohm > 0 else dry.r_ohm * stage,
        wet.q_us ** (1 - stage) * dry.q_us**stage,
        wet.alpha + (dry.alpha - wet.alpha) * stage,
        "drying",
    )
