"""Intake answers for clinic tests: a cleared adult as of `SCREEN_DAY`."""

from __future__ import annotations

from datetime import date
from typing import Any

SCREEN_DAY = date(2026, 11, 21)


def cleared_answers(**changes: Any) -> dict[str, Any]:
    """Answers with nothing to report, with ``changes`` applied."""
    answers: dict[str, Any] = {
        "date_of_birth": "1990-04-12",
        "pregnant": False,
        "breastfeeding": False,
        "pacemaker_or_implanted_device": False,
        "heart_condition": False,
        "epilepsy_or_seizures": False,
        "cancer_treatment": False,
        "thrombosis_or_phlebitis": False,
        "bleeding_disorder_or_heavy_bleeding": False,
        "diabetes": False,
        "metal_in_face_zones": [],
        "skin_conditions_zones": [],
        "last_injectables_date": None,
        "last_facial_procedure_date": None,
    }
    answers.update(changes)
    return answers
