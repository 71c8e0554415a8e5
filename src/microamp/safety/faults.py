"""Fault codes and the `Fault` record. A fault always means: output to zero first, report second."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["OPERATOR_MESSAGES", "Fault", "FaultCode"]


class FaultCode(StrEnum):
    PEAK_EXCEEDED = "peak_exceeded"
    NON_FINITE = "non_finite"
    SLEW_EXCEEDED = "slew_exceeded"
    ENVELOPE_EXCEEDED = "envelope_exceeded"
    CHARGE_IMBALANCE = "charge_imbalance"
    CONTACT_LOST = "contact_lost"
    COMPLIANCE = "compliance"
    CURRENT_DEVIATION = "current_deviation"
    TELEMETRY_SILENT = "telemetry_silent"
    DISCONNECTED = "disconnected"
    WATCHDOG = "watchdog"
    DRIVER_ERROR = "driver_error"
    COMMAND_EXPIRED = "command_expired"
    OPERATOR_STOP = "operator_stop"
    RECORD_FAILED = "record_failed"


OPERATOR_MESSAGES: dict[FaultCode, str] = {
    FaultCode.PEAK_EXCEEDED: "Output exceeded its peak limit; output was cut to zero.",
    FaultCode.NON_FINITE: "The waveform produced an invalid sample; output was cut to zero.",
    FaultCode.SLEW_EXCEEDED: "Intensity changed faster than allowed; output was cut to zero.",
    FaultCode.ENVELOPE_EXCEEDED: (
        "The output did not follow its commanded intensity; output was cut to zero."
    ),
    FaultCode.CHARGE_IMBALANCE: (
        "Net charge built up beyond its limit (use alternating or biphasic polarity); "
        "output was cut to zero."
    ),
    FaultCode.CONTACT_LOST: (
        "A probe lost contact with the skin. Re-apply gel, place both probes, then resume."
    ),
    FaultCode.COMPLIANCE: (
        "The skin's resistance is too high to deliver the set current (dry skin or too little "
        "gel). Add gel and check both probes."
    ),
    FaultCode.CURRENT_DEVIATION: (
        "The delivered current differed from the commanded current; output was cut to zero."
    ),
    FaultCode.TELEMETRY_SILENT: "The device stopped reporting; output was cut to zero.",
    FaultCode.DISCONNECTED: "The device was disconnected. Check the cable and reconnect.",
    FaultCode.WATCHDOG: "The device heard nothing from the host in time and stopped its output.",
    FaultCode.DRIVER_ERROR: "The device driver failed; output was cut to zero.",
    FaultCode.COMMAND_EXPIRED: "The output command expired without renewal; output went to zero.",
    FaultCode.OPERATOR_STOP: "Stopped by the operator.",
    FaultCode.RECORD_FAILED: (
        "The session record could not be kept up to date; output was cut to zero."
    ),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault, with device times in seconds: when it began, was seen, and output reached zero."""

    code: FaultCode
    message: str
    onset_t_s: float | None = None
    detected_t_s: float | None = None
    zero_t_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: FaultCode, **kwargs: Any) -> Fault:
        return cls(code=code, message=OPERATOR_MESSAGES[code], **kwargs)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["code"] = str(self.code)
        return data
