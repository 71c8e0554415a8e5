"""What changed between two versions of a client's intake answers, question by question."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microamp.clinic.intake import INTAKE_KEYS

__all__ = ["AnswerChange", "answer_changes"]


@dataclass(frozen=True, slots=True)
class AnswerChange:
    """One question whose answer differs: what it was, and what it is now."""

    question: str
    was: Any
    now: Any

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "was": self.was, "now": self.now}


def answer_changes(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any]
) -> list[AnswerChange]:
    """The questions answered differently in ``current`` than in ``previous``, in the order of
    the intake form; none for a first intake (``previous`` None). Zone lists compare as sets."""
    if previous is None:
        return []
    keys = [*INTAKE_KEYS, *sorted((set(previous) | set(current)) - set(INTAKE_KEYS))]
    return [
        AnswerChange(key, previous.get(key), current.get(key))
        for key in keys
        if _comparable(previous.get(key)) != _comparable(current.get(key))
    ]


def _comparable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value
