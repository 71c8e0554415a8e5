"""The characterisation report: one row per waveform and load, the lowest setting and the
fault reactions, each with its pass or fail, as measured by `microamp.session.characterize`
(from the sim's probes) or `microamp.session.characterize_telemetry` (from a device's frames).
A figure a device cannot measure is None, and its row says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from microamp.devices.enforce import LOWEST_SETTING_MAX_FRACTION

__all__ = [
    "FAULT_REACTION_LIMIT_S",
    "LOWEST_SETTING_LIMIT_PCT",
    "Characterization",
    "FaultReaction",
    "LowestSetting",
    "WaveformRow",
]

# IEC 60601-2-10: the lowest output setting is at most 2 % of the highest
LOWEST_SETTING_LIMIT_PCT = 100.0 * LOWEST_SETTING_MAX_FRACTION
# This tool's criterion: output reaches zero within a second of a fault it can notice.
FAULT_REACTION_LIMIT_S = 1.0


@dataclass
class WaveformRow:
    """One waveform into one load: the figures over its last whole cycle."""

    waveform: str
    load: str
    peak_ua: float
    mean_abs_ua: float
    # None where the device cannot measure it (see ``not_measured``)
    rms_ua: float | None
    dc_ua: float | None
    net_charge_per_pulse_uc: float | None
    max_phase_charge_uc: float | None
    density_ua_cm2: float | None
    headroom_v: float
    delivered: bool
    faults: list[str]
    plot_ua: list[float] = field(repr=False)
    plot_rate_hz: float = 0.0
    not_measured: str = ""

    @property
    def passed(self) -> bool:
        return self.delivered and not self.faults and self.headroom_v > 0

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        del document["plot_ua"], document["plot_rate_hz"]
        document["passed"] = self.passed
        return document


@dataclass
class LowestSetting:
    """The delivered peaks at the lowest and highest settings; ``share_pct`` is None when no
    current reached the load at the highest (a lifted probe): nothing to compare, no pass."""

    lowest_ua: float
    highest_ua: float
    share_pct: float | None

    @property
    def passed(self) -> bool:
        return self.share_pct is not None and self.share_pct <= LOWEST_SETTING_LIMIT_PCT

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "limit_pct": LOWEST_SETTING_LIMIT_PCT, "passed": self.passed}


@dataclass
class FaultReaction:
    kind: str
    reaction_s: float | None
    delivered_after: bool
    faults: list[str]
    measured_from: str = "probes"

    @property
    def passed(self) -> bool:
        if self.reaction_s is not None:
            return self.reaction_s <= FAULT_REACTION_LIMIT_S
        # output went on: acceptable only while the load still took the current commanded
        return self.delivered_after

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "limit_s": FAULT_REACTION_LIMIT_S, "passed": self.passed}


@dataclass
class Characterization:
    """Every row, the lowest-setting rule and the fault reactions of one device."""

    device_url: str
    profile: str
    electrode_area_cm2: float
    rows: list[WaveformRow]
    lowest: LowestSetting
    reactions: list[FaultReaction]
    measured_from: str = "probes"

    @property
    def passed(self) -> bool:
        return (
            all(r.passed for r in self.rows)
            and self.lowest.passed
            and all(r.passed for r in self.reactions)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_url": self.device_url,
            "profile": self.profile,
            "electrode_area_cm2": self.electrode_area_cm2,
            "measured_from": self.measured_from,
            "loads": list(dict.fromkeys(r.load for r in self.rows)),
            "waveforms": [r.to_dict() for r in self.rows],
            "lowest_setting": self.lowest.to_dict(),
            "fault_reactions": [r.to_dict() for r in self.reactions],
            "passed": self.passed,
        }
