"""Devices: fault reaction on `sim`, the emulator's watchdog, and the simulator's speed.

- reaction.sim_onset_to_zero_ms: for each injected fault, the time from the fault's onset at
  the probes to zero output, in device time (ms), under a `Supervisor` serviced every 1 ms.
  Goal: at most 1 ms. ``sim_injection_to_zero_ms`` measures from the injection instead: a
  drying skin takes a few ms to charge up to the compliance rail, and a stalled telemetry path
  can only be noticed by the host's silence timeout.
- reaction.contact_loss_by_waveform: a probe lifting under pulsed waveforms (a short biphasic
  pulse, a low duty, a low frequency, bursts), lifted at several points of the waveform's cycle
  (one when quick). Per case the worst ``onset_to_zero_ms`` (from the first commanded sample
  that did not flow to zero output, device time; goal 1 ms), ``meets_1ms``, the worst
  ``lift_to_zero_ms`` (from the lift itself: nothing can be seen until current is commanded
  again, so this is the window the waveform needs, at most one gap between pulses or bursts),
  and which rule saw it first.
- reaction.emulator_watchdog_ms: on the firmware emulator, from the last message of a host that
  fell silent to zero output, ms (the watchdog is 250 ms; the rest is the emulator loop's
  lateness). Median of 3 (1 when quick).
- simulator: device seconds per wall second at 20 kHz on a gel load, polled every 100 ms and
  supervised at 10 ms ticks.
- load_model: the electrode-skin load alone at 20 kHz, device seconds per wall second, stepped
  in 10 ms and 100 ms blocks of a 10 Hz square: the constant-phase model on gel beside the
  earlier symmetric RC (`bench/rc_load.py`), timed in the same run.
- characterize: wall seconds for `microamp characterize sim://` (every waveform family into
  every test load, the lowest setting and every fault kind), median of 3 (1 when quick), and
  the device seconds it drove; ``serial_wall_s`` the same for `microamp characterize serial://`
  on the firmware emulator (every waveform family into its one load, the lowest setting and
  the silent host, on the wall clock), once.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from typing import Any

import numpy as np

from microamp.clock import RealClock, SimulatedClock
from microamp.devices import Command, Supervisor, open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.devices.load import LOAD_PRESETS, LoadModel
from microamp.safety import get_profile
from microamp.session.characterize import characterize
from microamp.stimulus import Waveform

from . import rc_load

# on all the time (polarity flips every 0.5 s), so a fault always meets flowing current
STEADY = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=1.0, reversal_s=0.5)
INJECT_S = 1.5
KINDS = ("contact-loss", "dry", "disconnect", "stall")

# pulsed waveforms the profiles allow, and the cycle a lift may fall anywhere within (s)
PULSED: dict[str, tuple[Waveform, float]] = {
    "short_pulse_300us_biphasic_100hz": (
        Waveform(
            shape="pulse",
            amplitude_ua=300.0,
            frequency_hz=100.0,
            phase_us=300.0,
            polarity="biphasic",
        ),
        0.01,
    ),
    "low_duty_5pct_10hz": (
        Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, duty=0.05),
        0.1,
    ),
    "low_frequency_0.5hz": (
        Waveform(shape="square", amplitude_ua=300.0, frequency_hz=0.5, duty=0.5, reversal_s=2.0),
        2.0,
    ),
    "burst_100hz_0.3s_on_0.7s_off": (
        Waveform(
            shape="pulse",
            amplitude_ua=300.0,
            frequency_hz=100.0,
            phase_us=300.0,
            polarity="biphasic",
            burst_on_s=0.3,
            burst_off_s=0.7,
        ),
        1.0,
    ),
}


def _injected(
    kind: str, at_s: float, waveform: Waveform, watch_s: float
) -> tuple[float, float, str]:
    """(onset to zero, injection to zero) in ms of device time, and the fault code, for one
    fault injected at ``at_s`` under a `Supervisor` serviced every 1 ms."""
    clock = SimulatedClock()
    profile = get_profile("home")
    url = f"sim://?load=gel&fault={kind}@{at_s!r}"
    with open_device(url, clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(waveform))
        while supervisor.running and clock.now() < at_s + watch_s:
            clock.sleep(0.001)
            faults = supervisor.service().faults
            if faults:
                fault = faults[0]
                assert fault.zero_t_s is not None and fault.onset_t_s is not None
                onset_ms = (fault.zero_t_s - fault.onset_t_s) * 1e3
                return onset_ms, (fault.zero_t_s - at_s) * 1e3, str(fault.code)
    raise RuntimeError(f"a {kind} fault at {at_s} s under {waveform} was never reported")


def _reaction(kind: str) -> tuple[float, float]:
    """(onset to zero, injection to zero), ms of device time, under steady output."""
    onset_ms, injected_ms, _ = _injected(kind, INJECT_S, STEADY, watch_s=1.0)
    return onset_ms, injected_ms


def _lift(waveform: Waveform, lift_s: float) -> tuple[float, float, str]:
    """(onset to zero, lift to zero) in ms of device time, and the fault code, for one lift."""
    return _injected("contact-loss", lift_s, waveform, watch_s=3.0)


def _pulsed_reactions(quick: bool) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, (waveform, cycle_s) in PULSED.items():
        # past the start ramp (300 µA at 400 µA/s), at evenly spread points of the cycle
        points = 1 if quick else 7
        lifts = [1.0 + cycle_s * (i + 0.37) / points for i in range(points)]
        runs = [_lift(waveform, t) for t in lifts]
        onset_ms = max(r[0] for r in runs)
        results[name] = {
            "onset_to_zero_ms": round(onset_ms, 3),
            "meets_1ms": onset_ms <= 1.0,
            "lift_to_zero_ms": round(max(r[1] for r in runs), 3),
            "seen_as": sorted({r[2] for r in runs}),
            "lifts": len(runs),
        }
    return results


def _watchdog_once() -> tuple[float | None, list[str]]:
    """(silence to zero by the watchdog in ms, or None; every reason output went to zero)."""
    log = io.StringIO()
    with FirmwareEmulator("sim://?ramp_s=0", log=log).start() as emulator:
        with open_device(f"serial://{emulator.path}", clock=RealClock()) as device:
            device.apply(Command(STEADY, expires_after_s=2.0))
            for _ in range(15):
                time.sleep(0.02)
                device.heartbeat()
            # the host now falls silent without closing
            deadline = time.monotonic() + 3.0
            while emulator.sim.output_on and time.monotonic() < deadline:
                time.sleep(0.005)
    reasons = []
    for line in log.getvalue().splitlines():
        event = json.loads(line)
        if event["event"] == "output_zero":
            if event["reason"] == "watchdog":
                return float(event["silent_s"]) * 1e3, reasons
            reasons.append(str(event["reason"]))
    return None, reasons


def _watchdog_ms(runs: int, tries: int = 5) -> float:
    """Median over ``runs`` watchdog trips. A loaded machine can pause the host for longer than
    the watchdog while it is still heartbeating; then the host itself counts its command out
    and stops first, which is no watchdog figure: such a try is made again."""
    figures: list[float] = []
    seen: list[str] = []
    for _ in range(runs * tries):
        figure, reasons = _watchdog_once()
        if figure is None:
            seen += reasons
            continue
        figures.append(figure)
        if len(figures) == runs:
            return statistics.median(figures)
    raise RuntimeError(f"the emulator's watchdog fired {len(figures)} of {runs} times: {seen}")


def _speed(poll_s: float, supervised: bool, device_s: float = 20.0) -> float:
    clock = SimulatedClock()
    profile = get_profile("home")
    with open_device("sim://?load=gel", clock=clock, profile=profile) as device:
        supervisor = Supervisor(device, profile)
        supervisor.apply(Command(STEADY, expires_after_s=2.0))
        start = time.perf_counter()
        while clock.now() < device_s:
            clock.sleep(poll_s)
            if supervised:
                supervisor.service()
            else:
                device.heartbeat()
                device.poll()
        wall_s = time.perf_counter() - start
    return device_s / wall_s


def _load_speed(model: Any, block_s: float, device_s: float) -> float:
    rate_hz = 20_000.0
    n = round(block_s * rate_hz)
    period = round(rate_hz / 10.0)
    t = np.arange(round(device_s * rate_hz))
    square = np.where((t % period) < period // 2, 300.0, -300.0)
    start = time.perf_counter()
    for pos in range(0, square.size, n):
        model.step(square[pos : pos + n])
    return device_s / (time.perf_counter() - start)


def _load_models(device_s: float) -> dict[str, float]:
    figures = {}
    for block_ms in (10, 100):
        cpe = LoadModel(LOAD_PRESETS["gel"], 20_000.0, 40.0)
        rc = rc_load.LoadModel(rc_load.GEL, 20_000.0, 40.0)
        figures[f"cpe_x_real_time_{block_ms}ms_blocks"] = round(
            _load_speed(cpe, block_ms / 1000, device_s), 1
        )
        figures[f"rc_x_real_time_{block_ms}ms_blocks"] = round(
            _load_speed(rc, block_ms / 1000, device_s), 1
        )
    return figures


def _characterize(runs: int) -> dict[str, float]:
    """Wall seconds for one characterisation of a sim device across every load."""
    walls: list[float] = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        report = characterize("sim://", get_profile("home"), electrode_area_cm2=1.0)
        walls.append(time.perf_counter() - started)
        rows = len(report.rows)
    serial_s, serial_rows = _characterize_serial()
    return {
        "wall_s": round(statistics.median(walls), 3),
        "waveform_load_pairs": rows,
        "serial_wall_s": round(serial_s, 3),
        "serial_waveform_rows": serial_rows,
    }


def _characterize_serial() -> tuple[float, int]:
    """Wall seconds for one characterisation over the serial path, and its rows."""
    with FirmwareEmulator("sim://?load=r500").start() as emulator:
        started = time.perf_counter()
        report = characterize(
            f"serial://{emulator.path}", get_profile("home"), electrode_area_cm2=1.0, load="r500"
        )
        return time.perf_counter() - started, len(report.rows)


def run(quick: bool = False) -> dict[str, Any]:
    reactions = {kind: _reaction(kind) for kind in KINDS}
    watchdog_runs = 1 if quick else 3
    device_s = 1.0 if quick else 20.0
    return {
        "reaction": {
            "sim_onset_to_zero_ms": {
                kind: round(onset, 3) for kind, (onset, _) in reactions.items()
            },
            "sim_injection_to_zero_ms": {
                kind: round(injected, 3) for kind, (_, injected) in reactions.items()
            },
            "contact_loss_by_waveform": _pulsed_reactions(quick),
            "emulator_watchdog_ms": round(_watchdog_ms(watchdog_runs), 2),
        },
        "simulator": {
            "x_real_time_100ms_polls": round(_speed(0.1, False, device_s), 1),
            "x_real_time_supervised_10ms_ticks": round(_speed(0.01, True, device_s), 1),
        },
        "load_model": _load_models(2.0 if quick else 30.0),
        "characterize": _characterize(1 if quick else 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
