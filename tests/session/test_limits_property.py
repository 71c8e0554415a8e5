"""Random valid protocols never exceed their limits, judged by what the device was told and did."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValues
from microamp.protocols import MUSCLES, parse_protocol
from microamp.safety import get_profile
from microamp.session import Event, Prechecks, SessionOptions, SessionRunner, SessionStatus

HOME = get_profile("home")
LIFTABLE = sorted(n for n, m in MUSCLES.items() if not m.lengthen_only)
# frame peaks carry seeded measurement noise of 0.5 µA (s.d.)
NOISE_UA = 3.0


@st.composite
def protocols(draw: st.DrawFn) -> dict[str, Any]:
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        muscle = draw(st.sampled_from(LIFTABLE))
        side = "midline" if not MUSCLES[muscle].paired else draw(st.sampled_from(["left", "right"]))
        steps.append(
            {
                "muscle": muscle,
                "side": side,
                "intensity": draw(st.floats(0.2, 1.0)),
                "repetitions": draw(st.integers(1, 2)),
                "waveform": {
                    "amplitude_ua": draw(st.floats(20.0, 400.0)),
                    "frequency_hz": draw(st.sampled_from([0.5, 2.0, 10.0, 40.0, 120.0])),
                    "shape": draw(st.sampled_from(["square", "sine", "triangle"])),
                    "polarity": draw(st.sampled_from(["alternating", "biphasic"])),
                    "reversal_s": draw(st.sampled_from([0.5, 1.0, 2.5])),
                },
            }
        )
    return {
        "name": "random", "title": "Random", "version": "1", "audience": "home",
        "description": "An example for tests.",
        "defaults": {"hold_s": 3.0, "glide_s": 3.0, "ramp_s": 0.5},
        "steps": steps,
    }  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=protocols(),
    intensity=st.floats(0.1, 1.0),
    client_max_ua=st.none() | st.floats(30.0, 400.0),
    practitioner_max_ua=st.none() | st.floats(30.0, 400.0),
)
def test_random_valid_protocols_never_exceed_any_limit(
    open_sim: Any,
    data: dict[str, Any],
    intensity: float,
    client_max_ua: float | None,
    practitioner_max_ua: float | None,
) -> None:
    try:
        protocol = parse_protocol(data, HOME)
    except InvalidValues:
        assume(False)
    device = open_sim("sim://?load=gel&rate_hz=5000")
    caps: dict[int, float] = {}
    current: list[float] = [0.0]
    breaches: list[str] = []

    def on_event(event: Event) -> None:
        if event.kind == "step_started":
            d = event.to_dict()
            current[0] = d["amplitude_ua"]
            caps[d["step"]] = d["amplitude_ua"]

    def on_frame(frame: Any) -> None:
        if frame.peak_ua > current[0] + NOISE_UA:
            breaches.append(f"{frame.peak_ua} > {current[0]} at {frame.t_s}")

    options = SessionOptions(
        intensity=intensity, client_max_ua=client_max_ua, practitioner_max_ua=practitioner_max_ua
    )
    # no contact check: every command then belongs to the protocol
    runner = SessionRunner(
        protocol, device, profile=HOME, options=options, prechecks=Prechecks(contact=None),
        subscribers=[on_event], telemetry_subscribers=[on_frame],
    )  # fmt: skip
    summary = runner.run()
    assert summary.status is SessionStatus.COMPLETED, summary.reason
    assert breaches == []
    for planned in runner.planned:
        limit = min(
            planned.requested_ua,
            HOME.zone_cap_ua(planned.zone),
            client_max_ua or 1e9,
            practitioner_max_ua or 1e9,
        )
        assert caps[planned.index] <= limit + 1e-9
    assert device.commands
    # the level is a share of each step's requested current, never more than was asked
    requested_ua = {id(run.waveform): run.step.requested_ua for run in runner.runs}
    for _, command in device.commands:
        asked_ua = intensity * requested_ua[id(command.waveform)]
        assert command.commanded_ua <= asked_ua * (1 + 1e-9) + 1e-9
        assert command.commanded_ua <= HOME.zone_cap_ua(command.zone) + 1e-9
        assert command.commanded_ua <= min(client_max_ua or 1e9, practitioner_max_ua or 1e9) + 1e-9
