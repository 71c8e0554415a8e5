"""Custom limit profiles: each refusal names its field, the value and the rule; zone caps only lower."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety.limits import (
    BUILTIN_PROFILES,
    ZONES,
    get_profile,
    load_profile,
    profile_from_dict,
)

HOME = BUILTIN_PROFILES["home"]
SCALARS = sorted(k for k in HOME.limit_items() if "." not in k)


def refusals(data: dict[str, Any]) -> list[tuple[str, object, str]]:
    """Every (field, value, rule) the profile is refused for."""
    with pytest.raises(InvalidValue) as caught:
        profile_from_dict(data)
    errors = getattr(caught.value, "errors", [caught.value])
    return [(e.field, e.value, e.rule) for e in errors]


@pytest.mark.parametrize("name", [None, "", 5])
def test_a_profile_without_a_name_is_refused(name: object) -> None:
    data: dict[str, Any] = {} if name is None else {"name": name}

    assert refusals(data) == [("name", name, "a custom profile needs a name")]


def test_the_first_unknown_top_level_key_is_named_with_its_value() -> None:
    data = {"name": "x", "colour": "red", "alpha": 1}

    assert refusals(data) == [
        ("alpha", 1, "unknown key; allowed: name, base, limits, zone_caps_ua")
    ]


def test_an_unknown_base_is_refused_listing_the_builtins() -> None:
    assert refusals({"name": "x", "base": "pro"}) == [
        ("base", "pro", "must be one of home, professional")
    ]


def test_an_unknown_limit_is_refused_listing_the_known_ones() -> None:
    assert refusals({"name": "x", "limits": {"max_speed": 3}}) == [
        ("limits.max_speed", 3, f"unknown limit; known: {', '.join(SCALARS)}")
    ]


def test_an_unknown_zone_is_refused_listing_the_zones() -> None:
    assert refusals({"name": "x", "zone_caps_ua": {"ears": 100}}) == [
        ("zone_caps_ua.ears", "ears", f"unknown zone; zones: {', '.join(ZONES)}")
    ]


@pytest.mark.parametrize("raw", ["loud", True, {"value": "loud", "source": "s"}, {"value": 3}])
def test_a_limit_that_is_neither_a_number_nor_value_and_source_is_refused(raw: object) -> None:
    assert refusals({"name": "x", "limits": {"max_amplitude_ua": raw}}) == [
        ("limits.max_amplitude_ua", raw, "must be a number or {value, source}")
    ]


def test_a_bad_zone_cap_is_refused_under_the_zone_path() -> None:
    assert refusals({"name": "x", "zone_caps_ua": {"cheeks": "high"}}) == [
        ("zone_caps_ua.cheeks", "high", "must be a number or {value, source}")
    ]


def test_a_profile_with_only_a_name_is_its_base_under_the_new_name() -> None:
    profile = profile_from_dict({"name": "plain", "base": "professional"})

    assert profile.name == "custom:plain"
    assert profile.limit_items() == BUILTIN_PROFILES["professional"].limit_items()


def test_a_new_zone_cap_carries_the_custom_profile_source() -> None:
    profile = profile_from_dict({"name": "gentle", "zone_caps_ua": {"cheeks": 300}})

    assert profile.zone_caps_ua["cheeks"].value == 300.0
    assert profile.zone_caps_ua["cheeks"].source == "custom profile gentle"


def test_a_negative_limit_is_refused_and_zero_is_allowed() -> None:
    assert refusals({"name": "x", "limits": {"max_session_s": -1}}) == [
        ("limits.max_session_s", -1.0, "must be at least 0")
    ]
    assert profile_from_dict({"name": "x", "limits": {"max_session_s": 0}}).max_session_s.value == 0


def test_a_zone_cap_past_the_amplitude_ceiling_is_refused() -> None:
    assert refusals({"name": "x", "zone_caps_ua": {"cheeks": 1200}}) == [
        ("limits.zone_caps_ua.cheeks", 1200.0, "must be at most 1000 (absolute ceiling)")
    ]


def test_a_limit_past_its_ceiling_is_refused_naming_the_ceiling() -> None:
    assert refusals({"name": "x", "limits": {"max_frequency_hz": 2500}}) == [
        ("limits.max_frequency_hz", 2500.0, "must be at most 2000 (absolute ceiling)")
    ]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("min_frequency_hz", "max_frequency_hz"),
        ("warn_rms_density_ma_cm2", "max_rms_density_ma_cm2"),
        ("min_compliance_v", "max_compliance_v"),
    ],
)
def test_a_lower_bound_above_its_upper_bound_is_refused_and_equal_is_allowed(
    low: str, high: str
) -> None:
    half = getattr(HOME, high).value / 2

    assert refusals({"name": "x", "limits": {low: half + 1, high: half}}) == [
        (f"limits.{low}", half + 1, f"must not exceed {high}")
    ]
    equal = profile_from_dict({"name": "x", "limits": {low: half, high: half}})
    assert getattr(equal, low).value == getattr(equal, high).value == half


def test_an_unknown_profile_name_lists_the_builtins_and_toml() -> None:
    with pytest.raises(InvalidValue) as caught:
        get_profile("gentle")

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "profile",
        "gentle",
        "must be one of home, professional or a .toml file",
    )


def test_a_profile_file_that_cannot_be_read_names_the_path_and_why(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"

    with pytest.raises(InvalidValue) as caught:
        load_profile(path)

    assert (caught.value.field, caught.value.value, caught.value.rule) == (
        "profile",
        str(path),
        "cannot be read: No such file or directory",
    )


def test_a_profile_file_that_is_not_toml_names_the_path_and_the_parse_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \n", encoding="utf-8")

    with pytest.raises(InvalidValue) as caught:
        load_profile(path)

    assert (caught.value.field, caught.value.value) == ("profile", str(path))
    assert caught.value.rule.startswith("is not valid TOML: ")
    assert "line 1" in caught.value.rule


def test_a_profile_file_in_utf8_keeps_non_ascii_sources(tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(
        'name = "clinic"\n[limits]\nmax_amplitude_ua = { value = 300, source = "Ärztin 2026" }\n',
        encoding="utf-8",
    )

    assert load_profile(path).max_amplitude_ua.source == "Ärztin 2026"


@pytest.mark.parametrize(("zone", "cap_ua"), [(None, 400.0), ("cheeks", 400.0), ("eyes", 200.0)])
def test_the_zone_cap_is_the_zones_own_cap_only_where_it_has_one(
    zone: str | None, cap_ua: float
) -> None:
    assert HOME.zone_cap_ua(zone) == cap_ua


def test_a_zone_cap_above_the_profile_amplitude_does_not_raise_it() -> None:
    profile = profile_from_dict({"name": "x", "zone_caps_ua": {"cheeks": 800}})

    assert profile.zone_cap_ua("cheeks") == 400.0


@given(zone=st.sampled_from(ZONES), cap_ua=st.floats(0, 1000))
def test_a_zone_cap_is_never_above_the_profile_amplitude(zone: str, cap_ua: float) -> None:
    profile = profile_from_dict({"name": "x", "zone_caps_ua": {zone: cap_ua}})

    assert profile.zone_cap_ua(zone) == min(cap_ua, profile.max_amplitude_ua.value)
