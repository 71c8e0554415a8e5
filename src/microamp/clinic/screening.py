"""Screening: intake answers + rules -> an outcome, each reason citing its rule and answers.

result = screen(answers_json, on=date(2026, 11, 21))
result.outcome        # the worst outcome of every rule that fired
result.avoid_zones    # zones to take out of the protocol (caution)
result.deferred_until # first day treatment may go ahead (deferred)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from microamp.clinic.intake import IntakeAnswers, parse_answers
from microamp.clinic.rules import Check, Outcome, Rule, RuleSet, load_rules
from microamp.errors import InvalidValue
from microamp.safety.limits import ZONES

__all__ = ["Reason", "ScreeningResult", "add_years", "default_rules", "screen"]

_DEFAULT_RULES: RuleSet | None = None


def default_rules() -> RuleSet:
    """The packaged rules (loaded once)."""
    global _DEFAULT_RULES
    if _DEFAULT_RULES is None:
        _DEFAULT_RULES = load_rules()
    return _DEFAULT_RULES


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired: what it decided, why, and from which answers."""

    rule_id: str
    outcome: Outcome
    message: str
    answers: Mapping[str, Any]
    source: str
    deferred_until: date | None = None
    avoid_zones: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "outcome": str(self.outcome),
            "message": self.message,
            "answers": dict(self.answers),
            "source": self.source,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "avoid_zones": list(self.avoid_zones),
        }


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    """The outcome of one screening. ``deferred_until``: the first day every deferral has run
    out, set whenever a rule defers (even when a worse outcome also applies)."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    avoid_zones: tuple[str, ...]
    deferred_until: date | None
    rules_version: str
    screened_on: date
    procedure_wait_days: int | None  # None when read back from a stored form
    answers: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``microamp screen --json``."""
        return {
            "outcome": str(self.outcome),
            "reasons": [reason.to_dict() for reason in self.reasons],
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "avoid_zones": list(self.avoid_zones),
            "rules_version": self.rules_version,
            "screened_on": self.screened_on.isoformat(),
            "procedure_wait_days": self.procedure_wait_days,
        }


def add_years(born: date, years: int) -> date:
    """The date ``years`` after ``born``; a 29 February birthday falls on 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def screen(
    answers: IntakeAnswers | Mapping[str, Any],
    *,
    on: date,
    rules: RuleSet | None = None,
    procedure_wait_days: int | None = None,
) -> ScreeningResult:
    """Screen intake answers on day ``on``. Raises `InvalidValue` for bad answers.

    ``procedure_wait_days`` overrides the rules' default wait after injectables or a facial
    procedure (a rule's own ``days`` still wins, being more specific).
    """
    rules = rules or default_rules()
    if procedure_wait_days is not None and not 1 <= procedure_wait_days <= 365:
        raise InvalidValue("procedure_wait_days", procedure_wait_days, "must be 1-365 days")
    wait_days = procedure_wait_days or rules.procedure_wait_days
    parsed = answers if isinstance(answers, IntakeAnswers) else parse_answers(answers, on=on)
    reasons: list[Reason] = []
    for rule in rules.rules:
        if rule.check is not Check.ALL_ZONES_AVOIDED:
            reason = _evaluate(rule, parsed, on=on, wait_days=wait_days)
            if reason is not None:
                reasons.append(reason)
    avoid = _zones_to_avoid(reasons)
    for rule in rules.rules:
        if rule.check is Check.ALL_ZONES_AVOIDED and set(avoid) == set(ZONES):
            reasons.append(_reason(rule, parsed, cited=_zone_answer_keys(rules)))
    return _result(reasons, avoid, rules, on=on, wait_days=wait_days, answers=parsed)


def _result(
    reasons: list[Reason],
    avoid: tuple[str, ...],
    rules: RuleSet,
    *,
    on: date,
    wait_days: int,
    answers: IntakeAnswers,
) -> ScreeningResult:
    outcome = max((r.outcome for r in reasons), key=lambda o: o.rank, default=Outcome.CLEARED)
    deferrals = [r.deferred_until for r in reasons if r.deferred_until is not None]
    return ScreeningResult(
        outcome=outcome,
        reasons=tuple(sorted(reasons, key=lambda r: -r.outcome.rank)),
        avoid_zones=avoid,
        deferred_until=max(deferrals, default=None),
        rules_version=rules.version,
        screened_on=on,
        procedure_wait_days=wait_days,
        answers=answers.to_dict(),
    )


def _evaluate(rule: Rule, answers: IntakeAnswers, *, on: date, wait_days: int) -> Reason | None:
    key = rule.answer or ""
    if rule.check is Check.ANSWER_TRUE:
        return _reason(rule, answers, cited=(key,)) if answers.flags[key] else None
    if rule.check is Check.ZONES_LISTED:
        zones = answers.zones[key]
        return _reason(rule, answers, cited=(key,), zones=zones) if zones else None
    if rule.check is Check.AGE_BELOW:
        of_age = add_years(answers.date_of_birth, rule.years or 0)
        return _reason(rule, answers, cited=(key,), until=of_age) if on < of_age else None
    if rule.check is Check.WITHIN_WAIT:
        when = answers.date_answer(key)
        days = rule.days or wait_days
        if when is None or on >= when + timedelta(days=days):
            return None
        return _reason(rule, answers, cited=(key,), until=when + timedelta(days=days), days=days)
    return None


def _reason(
    rule: Rule,
    answers: IntakeAnswers,
    *,
    cited: tuple[str, ...],
    zones: tuple[str, ...] = (),
    until: date | None = None,
    days: int | None = None,
) -> Reason:
    message = rule.message.format(
        zones=", ".join(zones) or "-",
        until=until.isoformat() if until else "-",
        days=days if days is not None else "-",
    )
    return Reason(
        rule_id=rule.id,
        outcome=rule.outcome,
        message=message,
        answers={key: answers.value(key) for key in cited},
        source=rule.source,
        deferred_until=until if rule.outcome is Outcome.DEFERRED else None,
        avoid_zones=zones if rule.outcome is Outcome.CAUTION else (),
    )


def _zones_to_avoid(reasons: list[Reason]) -> tuple[str, ...]:
    zones = {zone for reason in reasons for zone in reason.avoid_zones}
    return tuple(zone for zone in ZONES if zone in zones)


def _zone_answer_keys(rules: RuleSet) -> tuple[str, ...]:
    return tuple(r.answer for r in rules.rules if r.check is Check.ZONES_LISTED and r.answer)
