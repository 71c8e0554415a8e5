"""Intake answers for clinic tests: a cleared adult as of `SCREEN_DAY`."""

from __future__ import annotations

from datetime import date
from typing import Any

from microamp.clinic.intake import nothing_to_report

SCREEN_DAY = date(2026, 11, 21)


def cleared_answers(**changes: Any) -> dict[str, Any]:
    """Answers with nothing to report for an adult born 1990-04-12, with ``changes`` applied."""
    return nothing_to_report(date(1990, 4, 12)) | changes
