"""Home routines made personal: any routine the builder produces passes protocol validation
under the home profile; skipping and zone levels only ever take away or lower."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.protocols.anatomy import MUSCLES
from microamp.protocols.home_routines import (
    CUE_CHOICES,
    REPETITION_CHOICES,
    SECONDS_CHOICES,
    Personalisation,
    RoutinePick,
    build_routine,
    home_offer,
    left_out_positions,
    personalise,
    routine_seconds,
)
from microamp.protocols.library import library_names, load_protocol
from microamp.protocols.validate import plan_protocol, protocol_errors
from microamp.safety.limits import ZONES, get_profile

HOME = get_profile("home")
OFFERED = [m["name"] for m in home_offer(HOME)["muscles"]]
picks = st.lists(
    st.builds(
        RoutinePick,
        muscle=st.sampled_from(OFFERED),
        repetitions=st.sampled_from(REPETITION_CHOICES),
        seconds=st.sampled_from(SECONDS_CHOICES),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(chosen=picks, cue=st.sampled_from(CUE_CHOICES))
def test_any_routine_the_builder_produces_passes_validation_under_the_home_profile(
    chosen: list[RoutinePick], cue: float
) -> None:
    try:
        protocol = build_routine(name="mine", title="Mine", picks=chosen, cue_interval_s=cue,
                                 profile=HOME)  # fmt: skip
    except InvalidValue as exc:
        # the only routine refused is one past the profile's time, and it says so
        assert routine_seconds(chosen) > HOME.max_session_s.value
        assert exc.field == "steps" and "past the home profile's 20 min" in exc.rule
        return
    data = protocol.model_dump(mode="json", exclude_none=True)
    assert protocol_errors(data, HOME) == []
    steps = plan_protocol(protocol, HOME)
    assert sum(s.duration_s for s in steps) <= HOME.max_session_s.value
    for step in steps:
        assert step.requested_ua <= HOME.zone_cap_ua(step.zone) + 1e-9


def test_the_builder_refuses_a_muscle_it_does_not_offer_naming_the_step() -> None:
    with pytest.raises(InvalidValue) as raised:
        build_routine(name="x", title="X", picks=[RoutinePick("frontalis"), RoutinePick("heart")],
                      cue_interval_s=5.0, profile=HOME)  # fmt: skip
    assert raised.value.field == "steps[1].muscle"


def test_the_builder_refuses_a_routine_past_twenty_minutes_with_the_limits_source() -> None:
    long = [RoutinePick("frontalis", 5, 15.0)] * 9  # 9 x 5 x 15 s x 2 sides = 22.5 min
    with pytest.raises(InvalidValue) as raised:
        build_routine(name="x", title="X", picks=long, cue_interval_s=5.0, profile=HOME)
    assert raised.value.field == "steps"
    assert "auto-off after 20 min" in raised.value.rule


def test_a_skipped_zone_and_muscle_are_left_out_and_a_level_only_lowers() -> None:
    express = load_protocol("home-express", HOME)
    mine = personalise(express, skipped=["forehead", "mentalis"], zone_levels={"cheeks": 0.5},
                       profile=HOME)  # fmt: skip
    before = {s.muscle: s for s in plan_protocol(express, HOME)}
    after = plan_protocol(mine, HOME)
    assert {s.muscle for s in after} == set(before) - {"frontalis", "mentalis"}
    for step in after:
        old = before[step.muscle]
        expected = old.intensity * (0.5 if step.zone == "cheeks" else 1.0)
        assert step.intensity == pytest.approx(expected, abs=1e-4)
        assert step.requested_ua <= old.requested_ua


@settings(max_examples=80, deadline=None)
@given(
    skipped=st.lists(st.sampled_from(["forehead", "eyes", "neck", "cheeks", "masseter"])),
    levels=st.dictionaries(
        st.sampled_from(["eyes", "cheeks", "jawline"]), st.floats(min_value=0.1, max_value=1.0)
    ),  # fmt: skip
)
def test_personalising_a_home_protocol_never_raises_what_it_asks_for(
    skipped: list[str], levels: dict[str, float]
) -> None:
    express = load_protocol("home-express", HOME)
    mine = personalise(express, skipped=skipped, zone_levels=levels, profile=HOME)
    asked = {s.muscle: s.requested_ua for s in plan_protocol(express, HOME)}
    for step in plan_protocol(mine, HOME):
        assert step.requested_ua <= asked[step.muscle] + 1e-9
        assert step.zone not in skipped


def test_skipping_everything_is_refused_naming_what_was_skipped() -> None:
    express = load_protocol("home-express", HOME)
    zones = ["neck", "jawline", "chin", "cheeks", "mouth", "eyes", "brows", "forehead", "nose"]
    with pytest.raises(InvalidValue) as raised:
        personalise(express, skipped=zones, zone_levels={}, profile=HOME)
    assert raised.value.field == "skipped"


def test_a_level_outside_its_range_is_refused_naming_the_zone() -> None:
    express = load_protocol("home-express", HOME)
    with pytest.raises(InvalidValue) as raised:
        personalise(express, skipped=[], zone_levels={"eyes": 1.5}, profile=HOME)
    assert raised.value.field == "zone_levels.eyes"


NAMES = sorted(set(ZONES) | set(MUSCLES))
HOME_ROUTINES = [n for n in library_names() if load_protocol(n).audience == "home"]
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
personal_data = st.fixed_dictionaries(
    {},
    optional={
        "skipped": st.lists(st.sampled_from(NAMES) | st.text(max_size=12), max_size=12)
        | json_values,
        "zone_levels": st.dictionaries(
            st.sampled_from(ZONES) | st.text(max_size=8),
            st.floats(min_value=0.0, max_value=1.2) | st.sampled_from([0.1, 1.0]) | json_values,
        )
        | json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(
    data=personal_data,
    base=st.sampled_from(HOME_ROUTINES) | picks,
    cue=st.sampled_from(CUE_CHOICES),
)
def test_any_personalisation_the_app_accepts_passes_validation_under_the_home_profile(
    data: dict[str, object], base: str | list[RoutinePick], cue: float
) -> None:
    """What a start request carries (`Personalisation.from_dict`), applied to a library home
    routine or to any routine the builder makes, either is refused naming the field, or gives
    a protocol that passes validation under the home profile and asks for no more than the
    routine did."""
    try:
        personal = Personalisation.from_dict(data)
    except InvalidValue as exc:
        assert exc.field.startswith("personal")
        return
    assert all(name in NAMES for name in personal.skipped)
    assert all(zone in ZONES and 0.1 <= v <= 1.0 for zone, v in personal.zone_levels)
    assert Personalisation.from_dict(personal.to_dict()) == personal
    if isinstance(base, str):
        routine = load_protocol(base, HOME)
    else:
        try:
            routine = build_routine(name="mine", title="Mine", picks=base, cue_interval_s=cue,
                                    profile=HOME)  # fmt: skip
        except InvalidValue:
            return  # past the profile's time: never saved, never run
    try:
        mine = personalise(routine, skipped=personal.skipped, zone_levels=personal.levels,
                           profile=HOME)  # fmt: skip
    except InvalidValue as exc:
        assert exc.field == "skipped"  # everything skipped: nothing runs
        return
    assert mine.audience == "home"
    assert protocol_errors(mine.model_dump(mode="json", exclude_none=True), HOME) == []
    steps = plan_protocol(mine, HOME)
    assert sum(s.duration_s for s in steps) <= HOME.max_session_s.value
    asked = [s.requested_ua for s in plan_protocol(routine, HOME)]
    for step in steps:
        assert step.zone not in personal.skipped and step.muscle not in personal.skipped
        assert step.requested_ua <= HOME.zone_cap_ua(step.zone) + 1e-9
        assert step.requested_ua <= max(asked) + 1e-9


def test_the_steps_left_out_are_told_by_position_not_by_label_and_zone() -> None:
    picks = [RoutinePick("platysma", 1, 5.0), RoutinePick("masseter", 1, 5.0),
             RoutinePick("platysma", 1, 5.0), RoutinePick("procerus", 1, 5.0)]  # fmt: skip
    routine = build_routine(name="mine", title="Mine", picks=picks, cue_interval_s=5.0,
                            profile=HOME)  # fmt: skip
    assert left_out_positions(routine, skipped=["jawline"], profile=HOME) == [1]
    # two identical steps: each is its own position, both out when their muscle is skipped
    assert left_out_positions(routine, skipped=["platysma"], profile=HOME) == [0, 2]
    kept = personalise(routine, skipped=["platysma"], zone_levels={}, profile=HOME)
    assert [s.muscle for s in plan_protocol(kept, HOME)] == ["masseter", "procerus"]
    assert left_out_positions(routine, skipped=[], profile=HOME) == []
