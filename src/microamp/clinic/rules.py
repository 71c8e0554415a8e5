"""Screening rules as data: load and check the versioned rules file.

The rules ship in ``microamp/clinic/data/screening-rules.toml``; a clinic may load its own file
with the same shape. A bad file is `InvalidValues`, each problem naming its key
(``rules[3].outcome``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, ZONE_LIST_KEYS
from microamp.errors import InvalidValue, InvalidValues

__all__ = ["DEFAULT_RULES_PATH", "Check", "Outcome", "Rule", "RuleSet", "load_rules"]

E = TypeVar("E", bound=StrEnum)

DEFAULT_RULES_PATH = Path(__file__).with_name("data") / "screening-rules.toml"
MAX_WAIT_DAYS = 365


class Outcome(StrEnum):
    """Screening outcomes, from mildest to worst; `rank` orders them."""

    CLEARED = "cleared"
    CAUTION = "caution"
    DEFERRED = "deferred"
    CLEARANCE_REQUIRED = "clearance_required"
    CONTRAINDICATED = "contraindicated"

    @property
    def rank(self) -> int:
        return list(Outcome).index(self)


class Check(StrEnum):
    """How a rule reads the answers."""

    ANSWER_TRUE = "answer_true"
    ZONES_LISTED = "zones_listed"
    AGE_BELOW = "age_below"
    WITHIN_WAIT = "within_wait"
    ALL_ZONES_AVOIDED = "all_zones_avoided"


# Which answers each check may read (None: it reads no answer).
_ANSWERS_FOR: dict[Check, tuple[str, ...] | None] = {
    Check.ANSWER_TRUE: BOOLEAN_KEYS,
    Check.ZONES_LISTED: ZONE_LIST_KEYS,
    Check.AGE_BELOW: ("date_of_birth",),
    Check.WITHIN_WAIT: DATE_OR_NULL_KEYS,
    Check.ALL_ZONES_AVOIDED: None,
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. ``message`` may use ``{zones}``, ``{until}`` and ``{days}``."""

    id: str
    check: Check
    outcome: Outcome
    message: str
    source: str
    answer: str | None = None
    years: int | None = None
    days: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A version of the rules and its default wait after injectables or procedures."""

    version: str
    procedure_wait_days: int
    rules: tuple[Rule, ...]


def load_rules(path: Path | None = None) -> RuleSet:
    """Load and check a rules file (the packaged one by default)."""
    path = path or DEFAULT_RULES_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidValue("rules", str(path), f"cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue("rules", str(path), f"is not valid TOML: {exc}") from None
    return rules_from_dict(data)


def rules_from_dict(data: dict[str, Any]) -> RuleSet:
    """Check a parsed rules document; every problem is reported at once."""
    errors: list[InvalidValue] = []
    version = data.get("version")
    if not isinstance(version, str) or not version:
        errors.append(InvalidValue("version", version, "the rules need a version"))
    wait = data.get("procedure_wait_days")
    if not _is_days(wait):
        errors.append(InvalidValue("procedure_wait_days", wait, f"must be 1-{MAX_WAIT_DAYS} days"))
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        errors.append(InvalidValue("rules", raw_rules, "must be a non-empty list of [[rules]]"))
        raw_rules = []
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        try:
            rules.append(_rule(f"rules[{index}]", raw))
        except InvalidValues as exc:
            errors.extend(exc.errors)
    ids = [rule.id for rule in rules]
    for rule_id in {i for i in ids if ids.count(i) > 1}:
        errors.append(InvalidValue("rules.id", rule_id, "rule ids must be unique"))
    if errors:
        raise InvalidValues(errors)
    assert isinstance(version, str) and isinstance(wait, int)
    return RuleSet(version=version, procedure_wait_days=wait, rules=tuple(rules))


def _is_days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WAIT_DAYS


def _rule(where: str, raw: object) -> Rule:
    if not isinstance(raw, dict):
        raise InvalidValues([InvalidValue(where, raw, "must be a table")])
    errors: list[InvalidValue] = []
    allowed = {"id", "check", "outcome", "message", "source", "answer", "years", "days"}
    errors += [
        InvalidValue(f"{where}.{k}", raw[k], "unknown key") for k in sorted(set(raw) - allowed)
    ]
    for key in ("id", "message", "source"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            errors.append(
                InvalidValue(f"{where}.{key}", raw.get(key), "must be a non-empty string")
            )
    check = _enum(Check, f"{where}.check", raw.get("check"), errors)
    outcome = _enum(Outcome, f"{where}.outcome", raw.get("outcome"), errors)
    answer = raw.get("answer")
    if check is not None:
        readable = _ANSWERS_FOR[check]
        if readable is None and answer is not None:
            errors.append(InvalidValue(f"{where}.answer", answer, f"{check} reads no answer"))
        if readable is not None and answer not in readable:
            errors.append(
                InvalidValue(
                    f"{where}.answer", answer, f"{check} reads one of {', '.join(readable)}"
                )
            )
    if check is Check.AGE_BELOW and not _is_days(raw.get("years")):
        errors.append(InvalidValue(f"{where}.years", raw.get("years"), "age_below needs years"))
    if "days" in raw and not _is_days(raw["days"]):
        errors.append(InvalidValue(f"{where}.days", raw["days"], f"must be 1-{MAX_WAIT_DAYS} days"))
    if errors:
        raise InvalidValues(errors)
    assert check is not None and outcome is not None
    return Rule(
        id=raw["id"],
        check=check,
        outcome=outcome,
        message=raw["message"],
        source=raw["source"],
        answer=answer,
        years=raw.get("years"),
        days=raw.get("days"),
    )


def _enum(kind: type[E], where: str, raw: object, errors: list[InvalidValue]) -> E | None:
    if isinstance(raw, str) and raw in set(kind):
        return kind(raw)
    errors.append(InvalidValue(where, raw, f"must be one of {', '.join(kind)}"))
    return None
