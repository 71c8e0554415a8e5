"""The requirements register and the hazard table: every safety rule and limit, as data.

Each `Requirement` states one rule with the numbers the code enforces (read from the code, never
retyped), where the rule comes from, and the code that enforces it as ``module:qualname``. Each
`Hazard` names the requirements that control it. `validate_register` checks the two tables
against each other (ids unique, every control an existing requirement, every requirement
controlling some hazard); `unresolved_enforcers` checks that every ``module:qualname`` imports.

The register sits above `session`, `clinic` and `store` (it reads their constants), below `cli`:
it imports those layers' values, never their behaviour; enforcing code is named as text and only
resolved on demand, so importing the register starts no database and no device.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass

from microamp.clinic.gate import gate
from microamp.devices.base import MAX_EXPIRY_S
from microamp.devices.firmware import WATCHDOG_S
from microamp.devices.sim import SimSettings
from microamp.errors import InvalidValue, InvalidValues
from microamp.safety.adaptive import AdaptiveIntensity
from microamp.safety.charge import MIN_REST_S
from microamp.safety.guard import CLAMP_TOLERANCE
from microamp.safety.limits import ABSOLUTE_CEILINGS, HOME, IEC, PROFESSIONAL, LimitProfile
from microamp.safety.monitor import MonitorLimits
from microamp.session.characterize import FAULT_REACTION_LIMIT_S, LOWEST_SETTING_LIMIT_PCT
from microamp.session.level import LEVEL_STEP
from microamp.session.prechecks import COMPLIANCE_MARGIN, CONTACT_TEST_S, CONTACT_TEST_UA

__all__ = [
    "HAZARDS",
    "REQUIREMENTS",
    "Hazard",
    "Register",
    "Requirement",
    "REGISTER",
    "unresolved_enforcers",
    "validate_register",
]

DOMAIN_SAFETY = "DOMAIN.md, Safety: standards and regulation"
DOMAIN_LOAD = "DOMAIN.md, Electrode-skin load"
DOMAIN_CONTRA = "DOMAIN.md, Who must not be treated (contraindications), and when to wait"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One safety rule: ``id`` like ``SAF-CHARGE-01``; ``enforced_by`` as ``module:qualname``."""

    id: str
    title: str
    statement: str
    source: str
    enforced_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hazard:
    """One hazard: what can go wrong, the harm, its cause, and the requirements that control it."""

    id: str
    hazard: str
    harm: str
    cause: str
    controls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Register:
    requirements: tuple[Requirement, ...]
    hazards: tuple[Hazard, ...]

    def requirement(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise InvalidValue("requirement", requirement_id, "is not in the register")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.requirements)

    def hazards_of(self, requirement_id: str) -> tuple[Hazard, ...]:
        """The hazards ``requirement_id`` helps control."""
        return tuple(h for h in self.hazards if requirement_id in h.controls)


def _both(field: str, unit: str) -> str:
    """A limit under both built-in profiles, e.g. ``400 µA (home), 1000 µA (professional)``."""
    home, pro = getattr(HOME, field).value, getattr(PROFESSIONAL, field).value
    if home == pro:
        return f"{home:g} {unit} under both built-in profiles"
    return f"{home:g} {unit} ({HOME.name}), {pro:g} {unit} ({PROFESSIONAL.name})"


def _minutes(profile: LimitProfile) -> str:
    return f"{profile.max_session_s.value / 60:g} min ({profile.name})"


_MON = MonitorLimits()
_ADAPT = AdaptiveIntensity()
_SIM = SimSettings()
_TRIP_MS = _SIM.trip_samples / _SIM.rate_hz * 1000
_SCREENING_AGE_DAYS = inspect.signature(gate).parameters["max_screening_age_days"].default
_CEILINGS = ", ".join(f"{name} {value:g}" for name, value in ABSOLUTE_CEILINGS.items())

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "SAF-AMP-01",
        "Peak current within the profile",
        f"No command and no rendered sample exceeds the profile's max_amplitude_ua: "
        f"{_both('max_amplitude_ua', 'µA')}; a command above it is refused whole.",
        f"{HOME.max_amplitude_ua.source}; {PROFESSIONAL.max_amplitude_ua.source}",
        (
            "microamp.devices.enforce:check_command",
            "microamp.safety.constraints:amplitude_constraint",
            "microamp.safety.guard:OutputGuard.process",
            "microamp.safety.check:check_waveform",
        ),
    ),
    Requirement(
        "SAF-AMP-02",
        "Zone caps",
        "A zone with its own cap is never driven above it: "
        + ", ".join(f"{z} {c.value:g} µA" for z, c in HOME.zone_caps_ua.items())
        + " under both built-in profiles; the cap only ever lowers the profile's maximum.",
        HOME.zone_caps_ua["eyes"].source,
        (
            "microamp.safety.limits:LimitProfile.zone_cap_ua",
            "microamp.safety.constraints:amplitude_constraint",
        ),
    ),
    Requirement(
        "SAF-AMP-03",
        "Layered ceilings only lower output",
        "The current is the minimum over every layer (hardware, profile, protocol, zone, client, "
        "practitioner, adaptive); a layer can only lower it, a non-finite or negative limit caps "
        "at zero, and a refusal names the layer and its source.",
        f"{DOMAIN_SAFETY} (AndroidAPS layered constraints, restim volume factors)",
        (
            "microamp.safety.constraints:Constraint.cap",
            "microamp.safety.constraints:Constraint.value",
            "microamp.devices.enforce:command_constraint",
        ),
    ),
    Requirement(
        "SAF-FREQ-01",
        "Frequency within the profile and the device",
        f"A command's frequency lies within the profile's range ({HOME.min_frequency_hz.value:g}-"
        f"{HOME.max_frequency_hz.value:g} Hz {HOME.name}, {PROFESSIONAL.min_frequency_hz.value:g}-"
        f"{PROFESSIONAL.max_frequency_hz.value:g} Hz {PROFESSIONAL.name}) and the device's own.",
        HOME.max_frequency_hz.source,
        (
            "microamp.devices.enforce:_check_frequency",
            "microamp.session.prechecks:probe_device",
        ),
    ),
    Requirement(
        "SAF-DENS-01",
        "Current density bound",
        f"The r.m.s. current density under an electrode stays at or below "
        f"{_both('max_rms_density_ma_cm2', 'mA/cm²')}, bounded from the waveform's shape before "
        "the command runs.",
        HOME.max_rms_density_ma_cm2.source,
        (
            "microamp.devices.enforce:_check_density",
            "microamp.devices.enforce:rms_bound_ua",
            "microamp.safety.check:check_waveform",
        ),
    ),
    Requirement(
        "SAF-DENS-02",
        "Current density warning",
        f"A waveform whose r.m.s. density passes {_both('warn_rms_density_ma_cm2', 'mA/cm²')} "
        "is reported with a warning for the operator's attention.",
        HOME.warn_rms_density_ma_cm2.source,
        ("microamp.safety.check:check_waveform",),
    ),
    Requirement(
        "SAF-CHARGE-01",
        "Accumulated net charge",
        f"The net charge a device has delivered since it was opened never exceeds "
        f"max_imbalance_uc, {_both('max_imbalance_uc', 'µC')}, at any sample; output trips to "
        "zero at the first sample past it.",
        HOME.max_imbalance_uc.source,
        (
            "microamp.safety.charge:ChargeAccount.admit",
            "microamp.safety.guard:OutputGuard.process",
        ),
    ),
    Requirement(
        "SAF-CHARGE-02",
        "Mean DC current over the window",
        f"No interval of at most dc_window_s ({HOME.dc_window_s.value:g} s) carries a mean "
        f"current above max_mean_dc_ua, {_both('max_mean_dc_ua', 'µA')}.",
        HOME.max_mean_dc_ua.source,
        ("microamp.safety.charge:ChargeAccount.admit",),
    ),
    Requirement(
        "SAF-CHARGE-03",
        "The charge account cannot be laundered",
        f"The net-charge account belongs to the device: a new command, a stop and a start keep "
        f"it; it starts from zero only on a newly opened device or after {MIN_REST_S:g} s "
        "without output, and a guard's reset never clears it.",
        HOME.max_imbalance_uc.source,
        (
            "microamp.safety.charge:ChargeAccount.start_session",
            "microamp.safety.guard:OutputGuard.reset",
        ),
    ),
    Requirement(
        "SAF-CHARGE-04",
        "Host look-ahead for self-rendering firmware",
        "For a device that renders its own output the host keeps the same charge account from "
        "what it commanded, and refuses a command (or does not renew it, stopping output) that "
        "would pass either charge limit before it expires.",
        HOME.max_imbalance_uc.source,
        (
            "microamp.safety.commanded:CommandedCharge.check",
            "microamp.safety.commanded:CommandedCharge.renew",
            "microamp.devices.base:Device.heartbeat",
        ),
    ),
    Requirement(
        "SAF-SLEW-01",
        "No sudden steps",
        f"The commanded envelope never moves faster than max_slew_ua_s, "
        f"{_both('max_slew_ua_s', 'µA/s')}; the renderer ramps and the guard trips on a faster "
        "step.",
        HOME.max_slew_ua_s.source,
        (
            "microamp.safety.guard:OutputGuard.process",
            "microamp.stimulus.renderer:Renderer",
        ),
    ),
    Requirement(
        "SAF-TIME-01",
        "Session length",
        f"A protocol or a waveform run lasts at most max_session_s: {_minutes(HOME)}, "
        f"{_minutes(PROFESSIONAL)}.",
        f"{HOME.max_session_s.source}; {PROFESSIONAL.max_session_s.source}",
        (
            "microamp.protocols.validate:_duration_errors",
            "microamp.safety.check:check_waveform",
        ),
    ),
    Requirement(
        "SAF-CEIL-01",
        "Absolute ceilings",
        f"No profile, built-in or custom, goes past the absolute ceilings: {_CEILINGS}.",
        "microamp: absolute ceilings over every profile (a microcurrent device stays under 1 mA; "
        f"{IEC} attention threshold 2 mA r.m.s./cm²)",
        ("microamp.safety.limits:check_profile",),
    ),
    Requirement(
        "SAF-CEIL-02",
        "A custom profile cannot pass for a built-in one",
        f"The built-in names ({HOME.name}, {PROFESSIONAL.name}) are reserved: a custom profile "
        "is named custom:<name>, records the built-in it starts from and the sha256 of its "
        "content.",
        "microamp: records name the profile that bounded them",
        ("microamp.safety.limits:profile_from_dict",),
    ),
    Requirement(
        "SAF-CEIL-03",
        "A profile is consistent",
        "Every limit is at least 0; min_frequency_hz <= max_frequency_hz, "
        "warn_rms_density_ma_cm2 <= max_rms_density_ma_cm2, min_compliance_v <= "
        "max_compliance_v; every problem in a profile file is reported, naming its key.",
        "microamp: a profile that contradicts itself bounds nothing",
        ("microamp.safety.limits:check_profile", "microamp.safety.limits:load_profile"),
    ),
    Requirement(
        "SAF-GUARD-01",
        "Non-finite samples trip",
        "A NaN or infinite sample or envelope value trips the output guard; output is zero from "
        "that sample on.",
        "microamp: the output guard is the last check before a probe",
        ("microamp.safety.guard:OutputGuard.process",),
    ),
    Requirement(
        "SAF-GUARD-02",
        "Output follows its commanded envelope",
        f"A sample whose magnitude exceeds its commanded envelope (by more than {CLAMP_TOLERANCE:g} "
        "of the peak) trips the output guard.",
        "microamp: the output guard is the last check before a probe",
        ("microamp.safety.guard:OutputGuard.process",),
    ),
    Requirement(
        "SAF-GUARD-03",
        "A trip holds until reset",
        f"Once tripped, every sample from the first offending one on is exactly zero until reset; "
        f"overshoot within {CLAMP_TOLERANCE:g} of the peak is rounding and is clamped, not "
        "passed.",
        "microamp: a fault always means output to zero first, report second",
        (
            "microamp.safety.guard:OutputGuard.process",
            "microamp.safety.guard:OutputGuard.reset",
        ),
    ),
    Requirement(
        "SAF-MON-01",
        "Contact lost",
        f"When current is commanded (peak at least {_MON.min_judged_ua:g} µA, mean at least "
        f"{_MON.min_judged_mean_ua:g} µA) and less than {_MON.contact_fraction:g} of it flows, "
        "or the device flags an open circuit, the host zeroes output (contact_lost).",
        DOMAIN_LOAD,
        ("microamp.safety.monitor:TelemetryMonitor.observe",),
    ),
    Requirement(
        "SAF-MON-02",
        "Compliance reached",
        f"When the source sits at its compliance voltage and delivers less than "
        f"{_MON.compliance_fraction:g} of the command for {_MON.compliance_frames} frames in a "
        "row, the host zeroes output (compliance).",
        DOMAIN_LOAD,
        ("microamp.safety.monitor:TelemetryMonitor.observe",),
    ),
    Requirement(
        "SAF-MON-03",
        "Delivered current deviates",
        f"Outside compliance, when delivered differs from commanded by more than "
        f"{_MON.deviation_fraction:g} of it (at {_MON.deviation_min_ua:g} µA or more) for "
        f"{_MON.deviation_frames} frames in a row, the host zeroes output (current_deviation).",
        "microamp: a broken output stage must not keep running",
        ("microamp.safety.monitor:TelemetryMonitor.observe",),
    ),
    Requirement(
        "SAF-MON-04",
        "Telemetry silence",
        f"While output is on, no telemetry frame for {_MON.silence_s * 1000:g} ms zeroes output "
        "(telemetry_silent).",
        f"{DOMAIN_SAFETY} (OpenAPS: a silent controller falls back to safe)",
        ("microamp.safety.monitor:TelemetryMonitor.observe",),
    ),
    Requirement(
        "SAF-TRIP-01",
        "The device's own shortfall trip",
        f"A sample-rendering device judges every commanded sample and zeroes output when "
        f"{_SIM.trip_samples} judged samples in a row ({_TRIP_MS:g} ms on the sim) are short, or "
        "a pulse ends short, whatever the duty, frequency or burst pattern.",
        "FOREO: a skin check every 2 ms; microamp's goal: onset to zero within 1 ms",
        (
            "microamp.devices.protection:ShortfallTrip.check",
            "microamp.devices.sim:SimDevice",
        ),
    ),
    Requirement(
        "SAF-DEV-01",
        "Every command expires",
        f"Every command expires after more than 0 and at most {MAX_EXPIRY_S:g} s; without a "
        "heartbeat the device zeroes its output on its own (command_expired).",
        f"{DOMAIN_SAFETY} (OpenAPS expiring commands; DG-LAB a packet every 100 ms)",
        (
            "microamp.devices.base:Command",
            "microamp.devices.sim:SimDevice._fire_due",
        ),
    ),
    Requirement(
        "SAF-DEV-02",
        "Firmware watchdog",
        f"The serial firmware zeroes output when no valid message has come from the host for "
        f"{WATCHDOG_S * 1000:g} ms (watchdog).",
        f"{DOMAIN_SAFETY} (DG-LAB: a packet every 100 ms)",
        ("microamp.devices.firmware:Firmware.tick",),
    ),
    Requirement(
        "SAF-DEV-03",
        "Firmware trusts nothing from the host",
        "The firmware refuses whole (NACK naming field, value and rule) a command with any value "
        "out of range or above its stored soft limit, drops a message whose sequence number is "
        "not ahead of the last one accepted, and zeroes output on a heartbeat for another "
        "command.",
        f"{DOMAIN_SAFETY} (DG-LAB drops any out-of-range packet and keeps a soft limit)",
        ("microamp.devices.firmware:Firmware.receive",),
    ),
    Requirement(
        "SAF-DEV-04",
        "A refused command changes nothing",
        "A command past any limit, or one the driver cannot carry, is refused with InvalidValue "
        "and the command in force stays in force.",
        "microamp: refusal is the fail-safe for bad input",
        ("microamp.devices.base:Device.apply",),
    ),
    Requirement(
        "SAF-DEV-05",
        "Driver failure and disconnection zero output",
        "A failing driver hook or a pulled cable zeroes output first, records the fault "
        "(driver_error, disconnected) and only then raises or reports.",
        "microamp: a fault always means output to zero first, report second",
        (
            "microamp.devices.base:Device._guarded",
            "microamp.devices.base:Device._fail",
        ),
    ),
    Requirement(
        "SAF-SUP-01",
        "Zero first, report second",
        "The supervisor stops the device before it reports any fault (the device's own, the "
        "monitor's or a failed call) and stamps each with the time output reached zero; "
        "service never raises a device failure.",
        "microamp: a fault always means output to zero first, report second",
        ("microamp.devices.supervisor:Supervisor.service",),
    ),
    Requirement(
        "SAF-SUP-02",
        "Renewal cadence",
        "The supervisor renews the command in force at least every 0.1 s or a quarter of its "
        "expiry, whichever is shorter, so a serviced session never lapses and an unserviced one "
        "does.",
        f"{DOMAIN_SAFETY} (OpenAPS expiring commands)",
        ("microamp.devices.supervisor:Supervisor._renew",),
    ),
    Requirement(
        "SAF-ADAPT-01",
        "Adaptive intensity stays comfortable",
        f"As skin impedance rises, intensity drops at once so the needed voltage stays under "
        f"{_ADAPT.comfort_v:g} V, comes back no faster than {_ADAPT.restore_ua_s:g} µA/s, and "
        "never exceeds the level the person chose.",
        "FOREO anti-shock: current adapted to skin resistance within the chosen level",
        ("microamp.safety.adaptive:AdaptiveIntensity.observe",),
    ),
    Requirement(
        "SAF-PRE-01",
        "Prechecks before any current",
        "Screening, consent, the device probe and the contact check run in that order before "
        "any current; the first refusal (or a Stop, or a hook that raises) ends the session "
        "with no current passed.",
        DOMAIN_CONTRA,
        (
            "microamp.session.prechecks:run_prechecks",
            "microamp.session.setup:set_up",
        ),
    ),
    Requirement(
        "SAF-PRE-02",
        "Contact check",
        f"The contact check passes {CONTACT_TEST_UA:g} µA for {CONTACT_TEST_S:g} s under the "
        "supervisor on the first treated zone and refuses an open circuit, a fault or missing "
        "telemetry; output is zero when it returns.",
        "Open-tDCS: a 50 µA contact test before a session",
        ("microamp.session.prechecks:check_contact",),
    ),
    Requirement(
        "SAF-PRE-03",
        "Compliance headroom before a session",
        f"A session is refused when the first step's current times the measured skin impedance, "
        f"times {COMPLIANCE_MARGIN:g}, exceeds the device's compliance voltage (V = I x Z).",
        DOMAIN_LOAD,
        ("microamp.session.prechecks:_drive_check",),
    ),
    Requirement(
        "SAF-PRE-04",
        "Device probe",
        "A session is refused on a closed or faulted device, or one that cannot cover a step's "
        "frequency.",
        "microamp: the device must be able to run every step",
        ("microamp.session.prechecks:probe_device",),
    ),
    Requirement(
        "SAF-SES-01",
        "A fault ends the session with output zero",
        "On any fault or device error during a session the runner zeroes output first, then "
        "records every fault and ends the session aborted.",
        "microamp: a fault always means output to zero first, report second",
        (
            "microamp.session.runner:SessionRunner._abort",
            "microamp.session.runner:SessionRunner._abort_on_error",
        ),
    ),
    Requirement(
        "SAF-SES-02",
        "The operator can always stop",
        "Stop ends the session in any state (at once during the prechecks): output to zero at "
        "the next tick, status stopped.",
        f"{IEC}: the operator controls the output",
        ("microamp.session.runner:SessionRunner.stop",),
    ),
    Requirement(
        "SAF-SES-03",
        "Zones to avoid are not treated",
        "Steps on a zone to avoid for the client (from screening or the options) are removed "
        "before any current and reported as skipped; a session with no step left is refused.",
        f"{DOMAIN_CONTRA}; {DOMAIN_SAFETY} (not on the eyes, the front of the neck)",
        ("microamp.session.setup:set_up",),
    ),
    Requirement(
        "SAF-GATE-01",
        "No current for a contraindicated client",
        "No current flows for a client who is contraindicated, deferred and the day has not "
        "come, or waiting for a physician's clearance, read fresh from the store at the start.",
        DOMAIN_CONTRA,
        (
            "microamp.clinic.gate:gate",
            "microamp.store.gating:client_prechecks",
        ),
    ),
    Requirement(
        "SAF-GATE-02",
        "Consent on file",
        "No current flows without a consent to the current consent text on file.",
        f"{DOMAIN_CONTRA}; records: informed consent before treatment",
        (
            "microamp.clinic.gate:_consent_refusals",
            "microamp.store.gating:client_prechecks",
        ),
    ),
    Requirement(
        "SAF-GATE-03",
        "Screening goes stale",
        f"A screening older than {_SCREENING_AGE_DAYS} days refuses as no screening: answers "
        "must be asked again.",
        DOMAIN_CONTRA,
        ("microamp.clinic.gate:gate",),
    ),
    Requirement(
        "SAF-GATE-04",
        "Safety flags persist",
        "A contraindication or clearance requirement found once refuses as its screening did, "
        "whatever later answers say, until a recorded decision lifts it.",
        DOMAIN_CONTRA,
        ("microamp.clinic.gate:_flag_refusals",),
    ),
    Requirement(
        "SAF-CHAR-01",
        "Lowest setting",
        f"The lowest non-zero output setting is at most {LOWEST_SETTING_LIMIT_PCT:g} % of the "
        "highest (the profile's maximum, or the hardware's if lower): a device whose output "
        "stage steps more coarsely refuses every command, on every backend; the session level "
        f"and the console's level controls step by {LEVEL_STEP * 100:g} %; the characterisation "
        "measures the delivered lowest setting against the rule.",
        f"{IEC} (the lowest setting must not exceed 2 % of the maximum)",
        (
            "microamp.devices.enforce:check_command",
            "microamp.session.level:checked_level",
            "microamp.session.characterize:lowest_setting_pct",
        ),
    ),
    Requirement(
        "SAF-CHAR-02",
        "Fault reaction time",
        f"Output reaches zero within {FAULT_REACTION_LIMIT_S:g} s of each injected fault the "
        "system can notice, measured in the characterisation report.",
        "microamp: characterisation criterion; 21 CFR 882.5891 impedance monitoring",
        ("microamp.session.characterize:characterize",),
    ),
)

HAZARDS: tuple[Hazard, ...] = (
    Hazard(
        "HAZ-01",
        "Excessive current",
        "pain, muscle spasm, skin burn",
        "a wrong setting, a software fault, a hostile profile or command",
        ("SAF-AMP-01", "SAF-AMP-03", "SAF-CEIL-01", "SAF-GUARD-02", "SAF-DEV-03", "SAF-DEV-04"),
    ),
    Hazard(
        "HAZ-02",
        "Current on a sensitive zone",
        "eye injury, discomfort on thin skin",
        "a protocol step on the eyes or a zone to avoid for the client",
        ("SAF-AMP-02", "SAF-SES-03"),
    ),
    Hazard(
        "HAZ-03",
        "Excessive current density",
        "skin burn under the electrode",
        "a small electrode area, a high r.m.s. waveform",
        ("SAF-DENS-01", "SAF-DENS-02", "SAF-CEIL-01"),
    ),
    Hazard(
        "HAZ-04",
        "Net DC charge",
        "electrochemical skin irritation or burn",
        "a monophasic waveform, re-applied commands, a firmware rendering on its own",
        ("SAF-CHARGE-01", "SAF-CHARGE-02", "SAF-CHARGE-03", "SAF-CHARGE-04"),
    ),
    Hazard(
        "HAZ-05",
        "A sudden step in current",
        "startle, pain",
        "an intensity change or start without a ramp",
        ("SAF-SLEW-01", "SAF-CHAR-01"),
    ),
    Hazard(
        "HAZ-06",
        "Output out of control",
        "uncontrolled current",
        "a non-finite sample, a renderer bug, a broken output stage",
        ("SAF-GUARD-01", "SAF-GUARD-02", "SAF-GUARD-03", "SAF-MON-03"),
    ),
    Hazard(
        "HAZ-07",
        "Lost contact or dry skin",
        "a sting on re-contact, current crowding at a lifting edge, high voltage",
        "a probe lifts, gel dries, the source reaches its compliance rail",
        ("SAF-MON-01", "SAF-MON-02", "SAF-TRIP-01", "SAF-PRE-02", "SAF-PRE-03", "SAF-ADAPT-01"),
    ),
    Hazard(
        "HAZ-08",
        "Output left on without supervision",
        "prolonged unsupervised stimulation",
        "a hung host, a lost link, a device that stops reporting",
        ("SAF-DEV-01", "SAF-DEV-02", "SAF-MON-04", "SAF-SUP-02", "SAF-DEV-05"),
    ),
    Hazard(
        "HAZ-09",
        "A fault reported but output still on",
        "continued harm after a detected fault",
        "reporting before zeroing, an exception on the way to stop",
        ("SAF-SUP-01", "SAF-SES-01", "SAF-DEV-05", "SAF-CHAR-02"),
    ),
    Hazard(
        "HAZ-10",
        "Treating a contraindicated client",
        "interference with a pacemaker, a seizure, harm in pregnancy",
        "screening skipped, stale or overridden by later answers",
        ("SAF-GATE-01", "SAF-GATE-03", "SAF-GATE-04", "SAF-PRE-01"),
    ),
    Hazard(
        "HAZ-11",
        "Treatment without consent",
        "treatment the client did not agree to",
        "no consent, or consent to an outdated text",
        ("SAF-GATE-02", "SAF-PRE-01"),
    ),
    Hazard(
        "HAZ-12",
        "Overlong session or wrong frequency",
        "skin irritation, fatigue, effects outside the device's intended use",
        "a protocol past the profile's time or frequency range",
        ("SAF-TIME-01", "SAF-FREQ-01", "SAF-PRE-04"),
    ),
    Hazard(
        "HAZ-13",
        "The operator cannot stop",
        "harm continues while the person asks to stop",
        "a stop lost in a busy session or during the prechecks",
        ("SAF-SES-02",),
    ),
    Hazard(
        "HAZ-14",
        "A misrepresented or contradictory profile",
        "records that hide which limits applied; limits that bound nothing",
        "a custom profile named like a built-in one, or contradicting itself",
        ("SAF-CEIL-02", "SAF-CEIL-03"),
    ),
)

REGISTER = Register(REQUIREMENTS, HAZARDS)


def validate_register(register: Register) -> None:
    """Refuse a register whose tables disagree: every problem, each naming its id."""
    errors: list[InvalidValue] = []
    errors += _duplicates("requirement", [r.id for r in register.requirements])
    errors += _duplicates("hazard", [h.id for h in register.hazards])
    known = set(register.ids)
    controlled: set[str] = set()
    for hazard in register.hazards:
        if not hazard.controls:
            errors.append(InvalidValue(f"{hazard.id}.controls", (), "names no requirement"))
        for requirement_id in hazard.controls:
            controlled.add(requirement_id)
            if requirement_id not in known:
                errors.append(
                    InvalidValue(f"{hazard.id}.controls", requirement_id, "is not a requirement")
                )
    for requirement in register.requirements:
        if requirement.id not in controlled:
            errors.append(InvalidValue(requirement.id, "", "controls no hazard"))
        if not requirement.enforced_by:
            errors.append(InvalidValue(f"{requirement.id}.enforced_by", (), "names no code"))
        if not (requirement.statement and requirement.source):
            errors.append(InvalidValue(requirement.id, "", "needs a statement and a source"))
    if errors:
        raise InvalidValues(errors)


def _duplicates(kind: str, ids: Iterable[str]) -> list[InvalidValue]:
    seen: set[str] = set()
    errors = []
    for item in ids:
        if item in seen:
            errors.append(InvalidValue(kind, item, "appears more than once"))
        seen.add(item)
    return errors


def unresolved_enforcers(register: Register) -> list[str]:
    """Every ``module:qualname`` in the register that does not import, as ``ID: name``."""
    missing = []
    for requirement in register.requirements:
        for target in requirement.enforced_by:
            if not _resolves(target):
                missing.append(f"{requirement.id}: {target}")
    return missing


def _resolves(target: str) -> bool:
    module_name, _, qualname = target.partition(":")
    try:
        obj: object = importlib.import_module(module_name)
    except ImportError:
        return False
    for part in qualname.split(".") if qualname else ():
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return bool(qualname)


validate_register(REGISTER)
