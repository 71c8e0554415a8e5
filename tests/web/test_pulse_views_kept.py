"""The pulse graph keeps what it simulated: the same step, profile, load and window is drawn once;
anything that shapes the drawing (a different load, a profile with another cap) is drawn anew."""

from __future__ import annotations

from microamp.safety.limits import get_profile
from microamp.web.pages.protocols import drawn_pulse, library_entry


def test_a_repeated_view_is_the_kept_one() -> None:
    step = library_entry("pro-lift").steps[0]
    profile = get_profile("professional")
    first = drawn_pulse(step, profile, "gel", "period")
    assert drawn_pulse(step, profile, "gel", "period") is first


def test_what_shapes_the_drawing_is_part_of_the_key() -> None:
    step = library_entry("pro-lift").steps[0]
    profile = get_profile("professional")
    gel, _ = drawn_pulse(step, profile, "gel", "period")
    dry, _ = drawn_pulse(step, profile, "dry", "period")
    assert dry.view.load == "dry" and gel.view.load == "gel"
    # the same profile name with a lower cap is another profile: never the kept drawing
    capped = profile.model_copy(
        update={"max_amplitude_ua": profile.max_amplitude_ua.model_copy(update={"value": 50.0})}
    )
    lower, _ = drawn_pulse(step, capped, "gel", "period")
    assert lower is not gel
    assert lower.amplitude_ua <= 50.0 < gel.amplitude_ua
