"""The intake questions as the pages ask them, by answer key (the clinic's own wording)."""

from __future__ import annotations

from microamp.clinic.questions import QUESTIONS

__all__ = ["QUESTIONS"]
