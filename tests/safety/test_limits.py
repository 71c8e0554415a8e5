from __future__ import annotations

from pathlib import Path

import pytest

from microamp.errors import InvalidValue, InvalidValues
from microamp.safety import BUILTIN_PROFILES, get_profile, load_profile
from microamp.safety.limits import profile_from_dict


def test_builtin_profiles_carry_a_source_for_every_number() -> None:
    for profile in BUILTIN_PROFILES.values():
        for name, limit in profile.limit_items().items():
            assert limit.source.strip(), name


@pytest.mark.requirement("SAF-AMP-01")
def test_home_and_professional_have_the_documented_maxima() -> None:
    assert get_profile("home").max_amplitude_ua.value == 400
    assert get_profile("professional").max_amplitude_ua.value == 1000
    assert get_profile("home").max_session_s.value == 20 * 60
    assert get_profile("professional").max_session_s.value == 90 * 60
    assert get_profile("home").zone_caps_ua["eyes"].value == 200
    assert get_profile("home").max_rms_density_ma_cm2.value == 2.0


def test_a_custom_profile_overrides_with_its_own_source(tmp_path: Path) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text(
        'name = "gentle"\nbase = "professional"\n'
        "[limits]\nmax_amplitude_ua = 600\n"
        'max_session_s = { value = 3600, source = "clinic policy" }\n'
        "[zone_caps_ua]\neyes = 150\n",
        encoding="utf-8",
    )
    profile = get_profile(str(path))
    assert profile.max_amplitude_ua.value == 600
    assert profile.max_amplitude_ua.source == "custom profile gentle"
    assert profile.max_session_s.source == "clinic policy"
    assert profile.zone_caps_ua["eyes"].value == 150
    assert profile.max_frequency_hz == get_profile("professional").max_frequency_hz


@pytest.mark.requirement("SAF-CEIL-01")
def test_a_custom_profile_past_an_absolute_ceiling_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hot.toml"
    path.write_text('name = "hot"\n[limits]\nmax_amplitude_ua = 5000\n', encoding="utf-8")
    with pytest.raises(InvalidValues) as caught:
        load_profile(path)
    assert caught.value.errors[0].field == "limits.max_amplitude_ua"
    assert "1000" in caught.value.errors[0].rule


@pytest.mark.requirement("SAF-CEIL-03")
def test_every_problem_in_a_profile_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[limits]\nmax_amplitude = 100\nmax_slew_ua_s = "fast"\n'
        "[zone_caps_ua]\near = 10\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidValues) as caught:
        load_profile(path)
    fields = {e.field for e in caught.value.errors}
    assert fields == {"limits.max_amplitude", "limits.max_slew_ua_s", "zone_caps_ua.ear"}


def test_an_unknown_profile_name_is_bad_input() -> None:
    with pytest.raises(InvalidValue) as caught:
        get_profile("turbo")
    assert caught.value.field == "profile"


@pytest.mark.requirement("SAF-CEIL-02")
@pytest.mark.parametrize("name", ["home", "professional", "Home ", "custom:home"])
def test_a_custom_profile_may_not_take_a_built_in_name(tmp_path: Path, name: str) -> None:
    path = tmp_path / "fake-home.toml"
    path.write_text(f'name = "{name}"\n[limits]\nmax_amplitude_ua = 1000\n', encoding="utf-8")
    with pytest.raises(InvalidValue) as caught:
        load_profile(path)
    assert caught.value.field == "name"
    assert "built-in" in caught.value.rule


def test_a_custom_profile_always_shows_as_custom_with_its_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text('name = "gentle"\n[limits]\nmax_amplitude_ua = 300\n', encoding="utf-8")
    profile = load_profile(path)
    assert profile.name == "custom:gentle"
    assert profile.base == "home"
    assert profile.content_hash.startswith("sha256:")
    assert profile.to_dict()["content_hash"] == profile.content_hash
    assert get_profile("home").content_hash == ""


def test_the_home_day_is_one_auto_off_span_and_a_professional_day_one_facial() -> None:
    home, professional = get_profile("home"), get_profile("professional")

    assert home.max_daily_s.value == 20 * 60
    assert "auto-off" in home.max_daily_s.source
    assert professional.max_daily_s.value == 90 * 60
    for profile in (home, professional):
        assert profile.max_session_s.value <= profile.max_daily_s.value


def test_a_custom_day_shorter_than_its_session_is_refused_naming_both() -> None:
    with pytest.raises(InvalidValues) as caught:
        profile_from_dict({"name": "short-day", "limits": {"max_daily_s": 600}})

    assert [(e.field, e.value, e.rule) for e in caught.value.errors] == [
        ("limits.max_session_s", 1200.0, "must not exceed max_daily_s")
    ]
    longer = profile_from_dict({"name": "two", "limits": {"max_daily_s": 40 * 60}})
    assert longer.max_daily_s.value == 40 * 60
    assert longer.max_daily_s.source == "custom profile two"


def test_a_day_past_the_absolute_ceiling_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        profile_from_dict({"name": "long", "limits": {"max_daily_s": 241 * 60}})

    assert "absolute ceiling" in str(caught.value)
