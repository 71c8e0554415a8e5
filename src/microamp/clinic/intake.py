"""Intake answers: the JSON contract `microamp screen` reads, parsed strictly.

Every key must be present and no other: a form that silently misses a question must not screen
as ``cleared``. A problem is `InvalidValue` naming the key (``metal_in_face_zones[1]`` for an
item of a list)::

    {
      "date_of_birth": "1990-04-12",
      "pregnant": false, "breastfeeding": false, "pacemaker_or_implanted_device": false,
      "heart_condition": false, "epilepsy_or_seizures": false, "cancer_treatment": false,
      "thrombosis_or_phlebitis": false, "bleeding_disorder_or_heavy_bleeding": false,
      "diabetes": false,
      "metal_in_face_zones": ["jawline"], "skin_conditions_zones": [],
      "last_injectables_date": "2026-01-10", "last_facial_procedure_date": null
    }
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from microamp.errors import InvalidValue
from microamp.safety.limits import ZONES

__all__ = [
    "BOOLEAN_KEYS",
    "DATE_OR_NULL_KEYS",
    "INTAKE_KEYS",
    "ZONE_LIST_KEYS",
    "IntakeAnswers",
    "nothing_to_report",
    "parse_answers",
    "parse_date",
]

BOOLEAN_KEYS = (
    "pregnant",
    "breastfeeding",
    "pacemaker_or_implanted_device",
    "heart_condition",
    "epilepsy_or_seizures",
    "cancer_treatment",
    "thrombosis_or_phlebitis",
    "bleeding_disorder_or_heavy_bleeding",
    "diabetes",
)
ZONE_LIST_KEYS = ("metal_in_face_zones", "skin_conditions_zones")
DATE_OR_NULL_KEYS = ("last_injectables_date", "last_facial_procedure_date")
# Only the plain calendar form: fromisoformat alone would also take "2026-W01-1" or "20260101".
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INTAKE_KEYS = ("date_of_birth", *BOOLEAN_KEYS, *ZONE_LIST_KEYS, *DATE_OR_NULL_KEYS)


def nothing_to_report(date_of_birth: date, **changes: Any) -> dict[str, Any]:
    """Intake answers (the JSON contract) with every question answered "no", then ``changes``.

    Built from the contract's own key lists, so a new question is answered here too.
    """
    answers: dict[str, Any] = {"date_of_birth": date_of_birth.isoformat()}
    answers |= dict.fromkeys(BOOLEAN_KEYS, False)
    answers |= {key: [] for key in ZONE_LIST_KEYS}
    answers |= dict.fromkeys(DATE_OR_NULL_KEYS)
    return answers | changes


@dataclass(frozen=True, slots=True)
class IntakeAnswers:
    """Checked intake answers. ``flags`` holds the booleans, ``zones`` the zone lists."""

    date_of_birth: date
    flags: Mapping[str, bool]
    zones: Mapping[str, tuple[str, ...]]
    last_injectables_date: date | None
    last_facial_procedure_date: date | None

    def value(self, key: str) -> Any:
        """The answer to ``key`` as a JSON value (for citing it in a screening reason)."""
        if key == "date_of_birth":
            return self.date_of_birth.isoformat()
        if key in self.flags:
            return self.flags[key]
        if key in self.zones:
            return list(self.zones[key])
        if key in DATE_OR_NULL_KEYS:
            found: date | None = getattr(self, key)
            return None if found is None else found.isoformat()
        raise KeyError(key)

    def date_answer(self, key: str) -> date | None:
        """A date answer (``date_of_birth`` or one of the dates-or-null)."""
        if key == "date_of_birth":
            return self.date_of_birth
        if key in DATE_OR_NULL_KEYS:
            found: date | None = getattr(self, key)
            return found
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The answers as the JSON contract spells them."""
        return {key: self.value(key) for key in INTAKE_KEYS}


def parse_answers(data: object, *, on: date | None = None) -> IntakeAnswers:
    """Check intake answers; `InvalidValue` names the first bad key.

    With ``on`` (the screening date), a date of birth or a past treatment date after it is
    refused as impossible.
    """
    if not isinstance(data, Mapping):
        raise InvalidValue("answers", type(data).__name__, "must be a JSON object of answers")
    unknown = sorted(str(k) for k in data if k not in INTAKE_KEYS)
    if unknown:
        raise InvalidValue(
            unknown[0], data[unknown[0]], f"unknown key; keys: {', '.join(INTAKE_KEYS)}"
        )
    for key in INTAKE_KEYS:
        if key not in data:
            raise InvalidValue(key, None, "missing; every intake question must be answered")
    flags = {key: _boolean(key, data[key]) for key in BOOLEAN_KEYS}
    zones = {key: _zones(key, data[key]) for key in ZONE_LIST_KEYS}
    born = _date(key="date_of_birth", raw=data["date_of_birth"], on=on)
    injectables = _date_or_null("last_injectables_date", data["last_injectables_date"], on)
    procedure = _date_or_null("last_facial_procedure_date", data["last_facial_procedure_date"], on)
    for key, when in (
        ("last_injectables_date", injectables),
        ("last_facial_procedure_date", procedure),
    ):
        if when is not None and when < born:
            raise InvalidValue(key, when.isoformat(), "is before the date of birth")
    return IntakeAnswers(
        date_of_birth=born,
        flags=flags,
        zones=zones,
        last_injectables_date=injectables,
        last_facial_procedure_date=procedure,
    )


def _boolean(key: str, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise InvalidValue(key, raw, "must be true or false")
    return raw


def _zones(key: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise InvalidValue(key, raw, f"must be a list of zones: {', '.join(ZONES)}")
    for index, zone in enumerate(raw):
        if not isinstance(zone, str) or zone not in ZONES:
            raise InvalidValue(f"{key}[{index}]", zone, f"unknown zone; zones: {', '.join(ZONES)}")
    return tuple(sorted(set(raw), key=ZONES.index))


def parse_date(raw: object, *, field: str) -> date:
    """A calendar date written YYYY-MM-DD; `InvalidValue` naming ``field`` otherwise."""
    return _date(key=field, raw=raw, on=None)


def _date(*, key: str, raw: object, on: date | None) -> date:
    if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
        raise InvalidValue(key, raw, "must be a date, YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(key, raw, "must be a real date, YYYY-MM-DD") from None
    if on is not None and parsed > on:
        raise InvalidValue(key, raw, f"is after the screening date {on.isoformat()}")
    return parsed


def _date_or_null(key: str, raw: object, on: date | None) -> date | None:
    return None if raw is None else _date(key=key, raw=raw, on=on)
