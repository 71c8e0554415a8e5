"""Validation: every problem at once, each naming its path in the file, the value and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols import load_protocol, parse_protocol, plan_protocol, protocol_errors
from microamp.safety import get_profile

HOME = get_profile("home")
PRO = get_profile("professional")


def fields(errors: list[InvalidValue]) -> list[str]:
    return [e.field for e in errors]


def test_the_base_protocol_is_valid_and_plans_every_step(protocol_data: dict[str, Any]) -> None:
    protocol = parse_protocol(protocol_data, HOME)
    steps = plan_protocol(protocol, HOME)
    assert [s.muscle for s in steps] == [
        "platysma",
        "zygomaticus-major",
        "mentalis",
        "orbicularis-oculi",
    ]
    assert steps[0].side == "both" and steps[0].sides == ("right", "left")
    assert steps[2].side == "midline"
    assert steps[0].duration_s == 5.0 * 2 * 2
    assert steps[3].requested_ua == 150.0


def test_an_unknown_muscle_names_its_path_and_the_nearest_muscle(
    protocol_data: dict[str, Any],
) -> None:
    protocol_data["steps"][1]["muscle"] = "zygomaticus-majr"
    errors = protocol_errors(protocol_data, HOME)
    assert fields(errors) == ["steps[1].muscle"]
    assert "did you mean 'zygomaticus-major'" in errors[0].rule


def test_an_eye_step_over_200_ua_names_the_step_amplitude_and_the_zone_cap(
    protocol_data: dict[str, Any],
) -> None:
    protocol_data["steps"][3]["waveform"]["amplitude_ua"] = 250.0
    errors = protocol_errors(protocol_data, HOME)
    assert fields(errors) == ["steps[3].waveform.amplitude_ua"]
    assert errors[0].value == 250.0
    assert "zone_caps_ua.eyes" in errors[0].rule and "200" in errors[0].rule


def test_an_inherited_amplitude_points_at_the_defaults(protocol_data: dict[str, Any]) -> None:
    protocol_data["defaults"]["waveform"]["amplitude_ua"] = 450.0
    errors = protocol_errors(protocol_data, HOME)
    # one error for each step that inherits it (the eye step sets its own 150 µA)
    assert fields(errors) == ["defaults.waveform.amplitude_ua"] * 3
    assert [e.rule.split(" ")[1] for e in errors] == ["steps[0]", "steps[1]", "steps[2]"]
    assert all("max_amplitude_ua" in e.rule for e in errors)


def test_every_error_is_reported_at_once(protocol_data: dict[str, Any]) -> None:
    steps = protocol_data["steps"]
    steps[0]["muscle"] = "platysmaa"
    steps[1]["intensity"] = 1.5
    steps[2]["hold_s"] = -1
    steps[3]["waveform"]["amplitude_ua"] = 300.0
    protocol_data["audience"] = "spa"
    with pytest.raises(InvalidValues) as info:
        parse_protocol(protocol_data, HOME)
    assert set(fields(info.value.errors)) == {
        "steps[0].muscle",
        "steps[1].intensity",
        "steps[2].hold_s",
        "steps[3].waveform.amplitude_ua",
        "audience",
    }


def test_lifting_a_muscle_that_is_only_lengthened_is_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"].append({"muscle": "depressor-anguli-oris", "technique": "lift-hold"})
    errors = protocol_errors(protocol_data, HOME)
    assert fields(errors) == ["steps[4].technique"]
    assert "lengthened, not lifted" in errors[0].rule


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ([[150.0, 192.0]], "on the eyes"),
        ([[190.0, 425.0]], "front of the neck"),
        ([[150.0, 520.0]], "across the chest"),
    ],
)
def test_probe_paths_in_forbidden_places_are_refused(
    protocol_data: dict[str, Any], path: list[list[float]], words: str
) -> None:
    protocol_data["steps"][1]["probe_path"] = path
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[1].probe_path[0]"]
    assert words in errors[0].rule


def test_a_probe_path_across_the_head_is_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][2]["probe_path"] = [[100.0, 150.0], [300.0, 150.0]]
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[2].probe_path"]
    assert "through the head" in errors[0].rule


def test_a_paired_path_must_be_drawn_on_the_persons_right(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][1]["probe_path"] = [[250.0, 192.0]]
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[1].probe_path[0]"]
    assert "person's right" in errors[0].rule


def test_a_session_longer_than_the_profile_allows_is_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["defaults"]["repetitions"] = 30
    protocol_data["defaults"]["hold_s"] = 60.0
    protocol_data["defaults"]["glide_s"] = 60.0
    errors = protocol_errors(protocol_data, HOME)
    assert fields(errors) == ["steps"]
    assert "max_session_s" in errors[0].rule


def test_unknown_keys_suggest_the_key_meant(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][0]["hold_secs"] = 4
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[0].hold_secs"]
    assert "did you mean 'hold_s'" in errors[0].rule


def test_a_glide_step_timed_by_hold_s_is_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][0]["hold_s"] = 4.0  # platysma glides
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[0].hold_s"]


def test_ramps_that_do_not_fit_a_repetition_are_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][2]["ramp_s"] = 3.0
    assert fields(protocol_errors(protocol_data)) == ["steps[2].ramp_s"]


def test_a_zone_that_contradicts_the_muscle_is_refused(protocol_data: dict[str, Any]) -> None:
    protocol_data["steps"][2]["zone"] = "forehead"
    errors = protocol_errors(protocol_data)
    assert fields(errors) == ["steps[2].zone"]
    assert "chin" in errors[0].rule


def test_a_professional_protocol_is_refused_under_the_home_profile(
    protocol_data: dict[str, Any],
) -> None:
    protocol_data["audience"] = "professional"
    assert fields(protocol_errors(protocol_data, HOME)) == ["audience"]
    assert protocol_errors(protocol_data, PRO) == []


def test_a_charge_imbalanced_waveform_is_refused_at_its_polarity(
    protocol_data: dict[str, Any],
) -> None:
    protocol_data["steps"][0]["waveform"] = {"polarity": "positive"}
    errors = protocol_errors(protocol_data, HOME)
    assert set(fields(errors)) == {"steps[0].waveform.polarity"}
    assert {e.rule.split(": the home profile's ")[1].split(" ")[0] for e in errors} == {
        "max_imbalance_uc",
        "max_mean_dc_ua",
    }


def test_alternating_reversals_too_far_apart_point_at_reversal_s(
    protocol_data: dict[str, Any],
) -> None:
    protocol_data["steps"][0]["waveform"] = {"reversal_s": 10.0, "polarity": "alternating"}
    errors = protocol_errors(protocol_data, HOME)
    assert set(fields(errors)) == {"steps[0].waveform.reversal_s"}


def test_the_content_hash_follows_content_not_layout(protocol_data: dict[str, Any]) -> None:
    first = parse_protocol(protocol_data).content_hash()
    assert first == parse_protocol(dict(reversed(list(protocol_data.items())))).content_hash()
    protocol_data["steps"][0]["cue"] = "Another cue."
    assert parse_protocol(protocol_data).content_hash() != first
    assert first.startswith("sha256:")


def test_a_file_that_is_not_toml_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(InvalidValue, match="not valid TOML") as info:
        load_protocol(path)
    assert info.value.field == "protocol"


def test_an_unknown_library_name_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="did you mean 'home-express'"):
        load_protocol("home-expres")


def test_a_custom_profile_based_on_home_refuses_a_professional_protocol(
    protocol_data: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text('name = "gentle"\n[limits]\nmax_amplitude_ua = 350\n', encoding="utf-8")
    protocol_data["audience"] = "professional"
    errors = protocol_errors(protocol_data, get_profile(str(path)))
    assert fields(errors) == ["audience"]
