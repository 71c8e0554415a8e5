"""A custom profile's identity: a name of its own, never a built-in one, and the hash of what its
file says, the same whatever the order of its keys."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pytest

from microamp.errors import InvalidValue
from microamp.safety.limits import profile_from_dict

GENTLE: dict[str, Any] = {
    "name": "gentle",
    "base": "home",
    "limits": {"max_amplitude_ua": 300, "max_slew_ua_s": 200},
}


def _canonical_hash(data: dict[str, Any]) -> str:
    """The documented form: sorted keys, no spaces, anything else written as text."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_hash_is_of_the_canonical_form_of_the_file() -> None:
    assert profile_from_dict(dict(GENTLE)).content_hash == _canonical_hash(GENTLE)


def test_the_same_content_in_another_key_order_has_the_same_hash() -> None:
    reordered = dict(reversed(list(GENTLE.items())))
    assert profile_from_dict(reordered).content_hash == profile_from_dict(dict(GENTLE)).content_hash


def test_different_content_has_a_different_hash() -> None:
    softer = {**GENTLE, "limits": {"max_amplitude_ua": 250, "max_slew_ua_s": 200}}
    assert profile_from_dict(softer).content_hash != profile_from_dict(dict(GENTLE)).content_hash


def test_a_value_json_cannot_write_is_refused_by_its_field_not_by_the_hash() -> None:
    # a TOML date where a number belongs: the file is hashed as text, then refused by name
    dated = {**GENTLE, "limits": {"max_amplitude_ua": date(2026, 11, 30)}}
    with pytest.raises(InvalidValue) as refused:
        profile_from_dict(dated)
    assert "max_amplitude_ua" in refused.value.field


@pytest.mark.parametrize("name", ["Custom:gentle", "CUSTOM:home", "custom:x"])
def test_a_name_that_already_carries_the_custom_prefix_is_refused_in_any_case(name: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        profile_from_dict({"name": name, "base": "home"})
    assert refused.value.field == "name"
    assert refused.value.value == name
    assert refused.value.rule.startswith("home, professional are the built-in profiles")


def test_a_name_that_only_ends_like_the_prefix_is_its_own() -> None:
    assert profile_from_dict({"name": "homecustom:", "base": "home"}).name == "custom:homecustom:"
