"""Helpers for protocol tests: a small valid protocol as data, to be broken one field at a time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "name": "test-protocol",
    "title": "Test protocol",
    "version": "1",
    "audience": "home",
    "example": True,
    "description": "An example for tests.",
    "defaults": {
        "hold_s": 5.0,
        "glide_s": 5.0,
        "repetitions": 2,
        "ramp_s": 1.0,
        "waveform": {"shape": "square", "amplitude_ua": 300.0, "frequency_hz": 10.0},
    },
    "steps": [
        {"muscle": "platysma", "cue": "Glide up the side of the neck."},
        {"muscle": "zygomaticus-major", "side": "right"},
        {"muscle": "mentalis"},
        {"muscle": "orbicularis-oculi", "waveform": {"amplitude_ua": 150.0}},
    ],
}


@pytest.fixture
def protocol_data() -> dict[str, Any]:
    return copy.deepcopy(BASE)
