"""Dates that record facts about the past: a screening, a signature, a photo cannot be dated
ahead of the clinic's day.

``today`` is always passed in (the interfaces take it from the clinic's local calendar), so
domain code never reads a clock of its own and tests can pin the day.
"""

from __future__ import annotations

from datetime import date

from microamp.errors import InvalidValue

__all__ = ["not_in_future"]


def not_in_future(field: str, day: date, *, today: date) -> date:
    """``day`` itself when it is ``today`` or earlier; `InvalidValue` naming ``field`` when it
    lies ahead (a future-dated fact would outrank every real one recorded after it)."""
    if day > today:
        raise InvalidValue(
            field, day.isoformat(), f"is in the future (today is {today.isoformat()})"
        )
    return day
