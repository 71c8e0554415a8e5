"""Intake answers: the JSON contract is strict, and bad input is only ever InvalidValue."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.samples import SCREEN_DAY, cleared_answers
from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, INTAKE_KEYS, parse_answers
from microamp.errors import InvalidValue


def test_cleared_answers_parse() -> None:
    parsed = parse_answers(
        cleared_answers(metal_in_face_zones=["neck", "cheeks", "neck"]), on=SCREEN_DAY
    )
    assert parsed.zones["metal_in_face_zones"] == ("cheeks", "neck")
    assert parsed.to_dict()["metal_in_face_zones"] == ["cheeks", "neck"]


@pytest.mark.parametrize("key", INTAKE_KEYS)
def test_a_missing_key_is_named(key: str) -> None:
    answers = cleared_answers()
    del answers[key]
    with pytest.raises(InvalidValue) as caught:
        parse_answers(answers)
    assert caught.value.field == key


def test_an_unknown_key_is_named() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_answers(cleared_answers(smoker=False))
    assert caught.value.field == "smoker"


@pytest.mark.parametrize("key", BOOLEAN_KEYS)
@pytest.mark.parametrize("value", [1, 0, "false", None, []])
def test_a_boolean_must_be_true_or_false(key: str, value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_answers(cleared_answers(**{key: value}))
    assert caught.value.field == key


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("cheeks", "metal_in_face_zones"),
        (["ear"], "metal_in_face_zones[0]"),
        (["neck", 3], "metal_in_face_zones[1]"),
    ],
)
def test_zone_lists_hold_known_zones(value: object, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_answers(cleared_answers(metal_in_face_zones=value))
    assert caught.value.field == field


@pytest.mark.parametrize("key", ["date_of_birth", *DATE_OR_NULL_KEYS])
@pytest.mark.parametrize(
    "value", ["2023-02-30", "2026-13-01", "12/04/1990", "20200101", "2020-W01-1", 19900412]
)
def test_impossible_or_malformed_dates_are_named(key: str, value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_answers(cleared_answers(**{key: value}))
    assert caught.value.field == key


def test_date_of_birth_may_not_be_null() -> None:
    with pytest.raises(InvalidValue, match="date_of_birth"):
        parse_answers(cleared_answers(date_of_birth=None))


@pytest.mark.parametrize("key", ["date_of_birth", *DATE_OR_NULL_KEYS])
def test_dates_after_the_screening_day_are_impossible(key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_answers(cleared_answers(**{key: "2026-11-22"}), on=SCREEN_DAY)
    assert caught.value.field == key


def test_a_treatment_before_birth_is_impossible() -> None:
    with pytest.raises(InvalidValue, match="before the date of birth"):
        parse_answers(cleared_answers(last_injectables_date="1980-01-01"))


def test_answers_must_be_an_object() -> None:
    with pytest.raises(InvalidValue, match="answers"):
        parse_answers(["pregnant"])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.dates().map(str),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    changes=st.dictionaries(st.sampled_from([*INTAKE_KEYS, "extra"]), json_values, max_size=4),
    drop=st.sets(st.sampled_from(INTAKE_KEYS), max_size=2),
)
def test_any_answers_parse_or_raise_invalid_value_naming_a_key(
    changes: dict[str, Any], drop: set[str]
) -> None:
    answers = cleared_answers(**changes)
    for key in drop:
        answers.pop(key, None)
    try:
        parse_answers(answers, on=SCREEN_DAY)
    except InvalidValue as exc:
        assert exc.field.split("[")[0] in {*INTAKE_KEYS, "extra"}


@given(st.one_of(json_values, st.lists(json_values)))
def test_anything_at_all_parses_or_raises_invalid_value(data: Any) -> None:
    try:
        parse_answers(data)
    except InvalidValue:
        pass
