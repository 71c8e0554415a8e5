"""Session bench: a 60-minute protocol on the sim backend in simulated time, wall time measured."""

from __future__ import annotations

import time
from typing import Any

from microamp.clock import SimulatedClock
from microamp.devices import open_device
from microamp.protocols import MUSCLES, parse_protocol
from microamp.safety import get_profile
from microamp.session import SessionRunner

DEVICE_URL = "sim://?load=gel"


def _sixty_minutes(muscles: int = 30, repetitions: int = 6) -> dict[str, Any]:
    """30 paired muscles, 6 repetitions of 10 s on each side: 3600 s of protocol time."""
    paired = [n for n, m in MUSCLES.items() if m.paired and not m.lengthen_only][:muscles]
    return {
        "name": "bench-sixty", "title": "Sixty minutes", "version": "1",
        "audience": "professional", "description": "An example for the bench.",
        "defaults": {"hold_s": 10.0, "glide_s": 10.0, "repetitions": repetitions, "ramp_s": 1.0,
                     "cue_interval_s": 10.0,
                     "waveform": {"amplitude_ua": 180.0, "frequency_hz": 10.0}},
        "steps": [{"muscle": name, "side": "both"} for name in paired],
    }  # fmt: skip


def run(quick: bool = False) -> dict[str, Any]:
    profile = get_profile("professional")
    shape = _sixty_minutes(2, 1) if quick else _sixty_minutes()
    protocol = parse_protocol(shape, profile)
    clock = SimulatedClock()
    with open_device(DEVICE_URL, clock=clock, profile=profile) as device:
        runner = SessionRunner(protocol, device, profile=profile)
        started = time.perf_counter()
        summary = runner.run()
        wall_s = time.perf_counter() - started
    return {
        "sessions": {
            "protocol": protocol.name,
            "device": DEVICE_URL,
            "status": str(summary.status),
            "simulated_s": round(summary.duration_s, 3),
            "wall_s": round(wall_s, 3),
            "x_real_time": round(summary.duration_s / wall_s, 1),
            "events": summary.events_count,
        }
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
