"""The gate: whether current may flow for a client, from screening, consents and clearances.

    decision = gate(result, consents=client.consents, clearances=client.clearances, on=today)
    decision.raise_if_refused()      # SessionRefused with one line per reason
    decision.avoid_zones             # zones the runner must take out of the protocol

Refused when: the client is contraindicated; deferred and the day has not come; a physician's
clearance is required and none valid is recorded; no consent to the current text is on file;
the screening is older than ``max_screening_age_days`` (answers go stale). A safety flag raised
by an earlier screening (a contraindication or a clearance requirement) refuses as its
screening did, whatever later answers say, until a recorded decision lifts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from microamp.clinic.consent import current_consent_version
from microamp.clinic.rules import Outcome
from microamp.clinic.screening import ScreeningResult
from microamp.errors import SessionRefused

__all__ = [
    "ClearanceOnFile",
    "ConsentOnFile",
    "FlagOnFile",
    "GateDecision",
    "Refusal",
    "gate",
]


class ConsentOnFile(Protocol):
    """A signed consent (the store's `Consent` fits)."""

    @property
    def text_version(self) -> str: ...

    @property
    def signed_at(self) -> datetime: ...


class ClearanceOnFile(Protocol):
    """A physician's clearance (the store's `Clearance` fits). Empty ``rule_ids``: all rules."""

    @property
    def rule_ids(self) -> Sequence[str]: ...

    @property
    def issued_on(self) -> date: ...

    @property
    def valid_until(self) -> date | None: ...


class FlagOnFile(Protocol):
    """An unlifted safety flag (the store's `SafetyFlag` fits): a rule that fired once."""

    @property
    def rule_id(self) -> str: ...

    @property
    def outcome(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def raised_on(self) -> date: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a session may not start: a stable ``code`` and a message for the operator."""

    code: str
    message: str
    rule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "rule_id": self.rule_id}


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Allowed (with zones to avoid) or refused (with reasons)."""

    refusals: tuple[Refusal, ...]
    avoid_zones: tuple[str, ...]
    outcome: Outcome
    rules_version: str

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def reasons(self) -> list[str]:
        """One line per refusal."""
        return [refusal.message for refusal in self.refusals]

    def raise_if_refused(self) -> None:
        """Raise `SessionRefused` (its ``reasons`` one line each) unless allowed."""
        if self.refusals:
            raise SessionRefused(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "refusals": [refusal.to_dict() for refusal in self.refusals],
            "avoid_zones": list(self.avoid_zones),
            "outcome": str(self.outcome),
            "rules_version": self.rules_version,
        }


def gate(
    result: ScreeningResult | None,
    *,
    consents: Iterable[ConsentOnFile],
    clearances: Iterable[ClearanceOnFile],
    on: date,
    flags: Iterable[FlagOnFile] = (),
    consent_version: str | None = None,
    max_screening_age_days: int = 365,
) -> GateDecision:
    """Decide whether a session may start on day ``on``. ``result`` None: no screening on file.

    ``flags`` are the client's unlifted safety flags; each refuses as its rule does.
    """
    consent_version = consent_version or current_consent_version()
    clearances = list(clearances)
    refusals = _screening_refusals(result, clearances, on=on, max_age_days=max_screening_age_days)
    refusals += _flag_refusals(list(flags), refusals, clearances, on=on)
    refusals += _consent_refusals(list(consents), consent_version)
    return GateDecision(
        refusals=tuple(refusals),
        avoid_zones=result.avoid_zones if result else (),
        outcome=_outcome(result, flags),
        rules_version=result.rules_version if result else "",
    )


def _outcome(result: ScreeningResult | None, flags: Iterable[FlagOnFile]) -> Outcome:
    if result is None:
        return Outcome.CONTRAINDICATED
    kept = [Outcome(flag.outcome) for flag in flags]
    return max([result.outcome, *kept], key=lambda o: o.rank)


def _flag_refusals(
    flags: list[FlagOnFile],
    already: list[Refusal],
    clearances: list[ClearanceOnFile],
    *,
    on: date,
) -> list[Refusal]:
    """Refusals for flags the latest screening did not raise again (no line said twice)."""
    refused_rules = {refusal.rule_id for refusal in already}
    refusals: list[Refusal] = []
    for flag in flags:
        if flag.rule_id in refused_rules:
            continue
        message = (
            f"{flag.message} (found on {flag.raised_on.isoformat()}; it stays on the record "
            "until a practitioner lifts it)"
        )
        refusal = _refusal_for(flag.rule_id, Outcome(flag.outcome), message, None, clearances, on)
        if refusal is not None:
            refusals.append(refusal)
            refused_rules.add(flag.rule_id)
    return refusals


def _screening_refusals(
    result: ScreeningResult | None,
    clearances: list[ClearanceOnFile],
    *,
    on: date,
    max_age_days: int,
) -> list[Refusal]:
    if result is None:
        return [Refusal("no_screening", "No screening on file: complete the intake form first.")]
    if (on - result.screened_on).days > max_age_days:
        return [
            Refusal(
                "screening_expired",
                f"The screening of {result.screened_on.isoformat()} is more than "
                f"{max_age_days} days old: screen the client again.",
            )
        ]
    refusals = []
    for reason in result.reasons:
        refusal = _refusal_for(
            reason.rule_id, reason.outcome, reason.message, reason.deferred_until, clearances, on
        )
        if refusal is not None:
            refusals.append(refusal)
    return refusals


def _refusal_for(
    rule_id: str,
    outcome: Outcome,
    message: str,
    deferred_until: date | None,
    clearances: list[ClearanceOnFile],
    on: date,
) -> Refusal | None:
    if outcome is Outcome.CONTRAINDICATED:
        return Refusal("contraindicated", message, rule_id)
    if outcome is Outcome.DEFERRED and deferred_until is not None and on < deferred_until:
        return Refusal("deferred", message, rule_id)
    if outcome is Outcome.CLEARANCE_REQUIRED and not _cleared(rule_id, clearances, on):
        return Refusal("clearance_missing", f"{message} None valid is on file.", rule_id)
    return None


def _cleared(rule_id: str, clearances: list[ClearanceOnFile], on: date) -> bool:
    return any(
        (not c.rule_ids or rule_id in c.rule_ids)
        and c.issued_on <= on
        and (c.valid_until is None or on <= c.valid_until)
        for c in clearances
    )


def _consent_refusals(consents: list[ConsentOnFile], version: str) -> list[Refusal]:
    if any(consent.text_version == version for consent in consents):
        return []
    if consents:
        signed = ", ".join(sorted({c.text_version for c in consents}))
        return [
            Refusal(
                "consent_outdated",
                f"The consent on file is to version {signed}; the client must sign version {version}.",
            )
        ]
    return [Refusal("no_consent", "No consent on file: the client must sign the consent first.")]
