"""A 60-minute protocol runs in simulated time (its wall time is measured by the bench)."""

from __future__ import annotations

from typing import Any

import pytest

from microamp.protocols import MUSCLES, parse_protocol
from microamp.safety import get_profile
from microamp.session import SessionRunner, SessionStatus

PRO = get_profile("professional")


def sixty_minute_protocol() -> dict[str, Any]:
    """30 paired steps, 6 repetitions of 10 s on each side: exactly 3600 s."""
    paired = [n for n, m in MUSCLES.items() if m.paired and not m.lengthen_only][:30]
    return {
        "name": "sixty", "title": "Sixty minutes", "version": "1", "audience": "professional",
        "description": "An example for tests.", "estimated_minutes": 60,
        "defaults": {"hold_s": 10.0, "glide_s": 10.0, "repetitions": 6, "ramp_s": 1.0,
                     "cue_interval_s": 10.0,
                     "waveform": {"amplitude_ua": 180.0, "frequency_hz": 10.0}},
        "steps": [{"muscle": name, "side": "both"} for name in paired],
    }  # fmt: skip


@pytest.mark.slow
def test_a_sixty_minute_protocol_runs_to_the_end_in_simulated_time(open_sim: Any) -> None:
    protocol = parse_protocol(sixty_minute_protocol(), PRO)
    device = open_sim("sim://?load=gel&rate_hz=5000", PRO)
    runner = SessionRunner(protocol, device, profile=PRO)
    assert runner.total_s == 3600.0
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED
    assert summary.steps_completed == 30
    assert 3600.0 <= summary.duration_s <= 3600.0 + 5.0  # plus the contact check
    assert device.time_s == pytest.approx(summary.duration_s, abs=0.01)
