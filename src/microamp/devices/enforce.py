"""The one limit check every command passes, on every backend, before a driver sees it.

`Device.apply` calls `check_command`; no driver has a copy. The amplitude goes through the
layered `amplitude_constraint` (hardware, profile, zone, and the client and practitioner
ceilings a command carries), so a refusal names the layer that refused it and that layer's
source. The frequency must lie within both the device's range and the profile's, and the
r.m.s. current density under the electrode within the profile's bound. A device whose lowest
non-zero setting (one step of its output stage) is above 2 % of its highest (IEC 60601-2-10)
refuses every command: its output cannot be started low enough. A command past any of them is
refused whole with `InvalidValue`: nothing changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from microamp.errors import InvalidValue
from microamp.safety.constraints import Clamp, Constraint, amplitude_constraint
from microamp.safety.limits import LimitProfile
from microamp.stimulus.metrics import rms_density_ma_cm2
from microamp.stimulus.waveform import Waveform

if TYPE_CHECKING:
    from microamp.devices.base import Capabilities, Command

__all__ = [
    "LOWEST_SETTING_MAX_FRACTION",
    "ceiling_ua",
    "check_command",
    "command_constraint",
    "highest_setting_ua",
    "rms_bound_ua",
]

# A request this close above a limit is floating-point rounding (a float32 on a wire), not a breach.
TOLERANCE = 1e-9
# IEC 60601-2-10: the output at the lowest setting is at most 2 % of that at the highest.
LOWEST_SETTING_MAX_FRACTION = 0.02


def command_constraint(command: Command, profile: LimitProfile, caps: Capabilities) -> Constraint:
    """The command's output current through every layer that applies to it."""
    return amplitude_constraint(
        command.commanded_ua,
        profile,
        zone=command.zone,
        hardware_max_ua=caps.max_current_ua,
        client_max_ua=command.client_max_ua,
        practitioner_max_ua=command.practitioner_max_ua,
    )


def ceiling_ua(constraint: Constraint) -> float:
    """The most current any layer allows (what a sample renderer's output guard holds to)."""
    return _tightest(constraint).limit


def check_command(command: Command, profile: LimitProfile, caps: Capabilities) -> float:
    """Refuse a command past any limit; return the ceiling (µA) it runs under."""
    _check_lowest_setting(profile, caps)
    constraint = command_constraint(command, profile, caps)
    _check_amplitude(constraint)
    _check_frequency(command.waveform, profile, caps)
    _check_density(command, profile, caps)
    return ceiling_ua(constraint)


def highest_setting_ua(profile: LimitProfile, caps: Capabilities) -> float:
    """The highest output setting: the profile's maximum, or the hardware's if that is lower."""
    return min(profile.max_amplitude_ua.value, caps.max_current_ua)


def rms_bound_ua(waveform: Waveform, intensity: float = 1.0) -> float:
    """An upper bound on the r.m.s. current of ``waveform`` at ``intensity``, from its shape.

    A pulse shape is at most its peak for its on fraction of each period (a ramped square is
    below that); a sine is peak/√2, a triangle peak/√3. Bursts only lower it.
    """
    peak_ua = waveform.amplitude_ua * intensity
    if waveform.shape == "sine":
        return peak_ua / math.sqrt(2.0)
    if waveform.shape == "triangle":
        return peak_ua / math.sqrt(3.0)
    return peak_ua * math.sqrt(waveform.on_fraction)


def _tightest(constraint: Constraint) -> Clamp:
    # the first added of equal limits, as `Constraint.binding` picks it
    return min(constraint.clamps, key=lambda clamp: clamp.limit)


def _check_amplitude(constraint: Constraint) -> None:
    clamp = _tightest(constraint)
    if constraint.requested > clamp.limit * (1 + TOLERANCE):
        raise InvalidValue(
            "amplitude_ua",
            constraint.requested,
            f"above the {clamp.layer} limit of {clamp.limit:g} µA: {clamp.reason} "
            f"[source: {clamp.source}]",
        )


def _check_lowest_setting(profile: LimitProfile, caps: Capabilities) -> None:
    highest_ua = highest_setting_ua(profile, caps)
    if caps.current_step_ua > LOWEST_SETTING_MAX_FRACTION * highest_ua * (1 + TOLERANCE):
        raise InvalidValue(
            "current_step_ua",
            caps.current_step_ua,
            f"the lowest setting, one step of the output stage, is above "
            f"{LOWEST_SETTING_MAX_FRACTION * 100:g} % of the highest ({highest_ua:g} µA under the "
            f"{profile.name} profile) [source: IEC 60601-2-10]",
        )


def _check_frequency(waveform: Waveform, profile: LimitProfile, caps: Capabilities) -> None:
    frequency_hz = waveform.frequency_hz
    if not caps.min_frequency_hz <= frequency_hz <= caps.max_frequency_hz:
        raise InvalidValue(
            "frequency_hz",
            frequency_hz,
            f"this device covers {caps.min_frequency_hz:g}-{caps.max_frequency_hz:g} Hz",
        )
    low, high = profile.min_frequency_hz, profile.max_frequency_hz
    if not low.value * (1 - TOLERANCE) <= frequency_hz <= high.value * (1 + TOLERANCE):
        limit = low if frequency_hz < low.value else high
        raise InvalidValue(
            "frequency_hz",
            frequency_hz,
            f"the {profile.name} profile covers {low.value:g}-{high.value:g} Hz "
            f"[source: {limit.source}]",
        )


def _check_density(command: Command, profile: LimitProfile, caps: Capabilities) -> None:
    rms_ua = rms_bound_ua(command.waveform, command.intensity)
    density = rms_density_ma_cm2(rms_ua, caps.electrode_area_cm2)
    limit = profile.max_rms_density_ma_cm2
    if density > limit.value * (1 + TOLERANCE):
        raise InvalidValue(
            "amplitude_ua",
            command.commanded_ua,
            f"r.m.s. current density {density:.3g} mA/cm² on {caps.electrode_area_cm2:g} cm² "
            f"electrodes is above the {profile.name} profile's {limit.value:g} mA/cm² "
            f"[source: {limit.source}]",
        )
