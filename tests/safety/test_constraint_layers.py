"""Amplitude constraints: every layer's clamp with its reason and source; bad limits fail safe."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.safety.constraints import Clamp, Constraint, Layer, amplitude_constraint

HOME = get_profile("home")


def test_every_layer_that_applies_adds_its_clamp_in_order_with_reason_and_source() -> None:
    c = amplitude_constraint(
        500.0,
        HOME,
        zone="eyes",
        hardware_max_ua=900.0,
        protocol_max_ua=300.0,
        client_max_ua=250.0,
        practitioner_max_ua=350.0,
    )

    assert c.name == "amplitude_ua"
    assert c.clamps == [
        Clamp(Layer.HARDWARE, 900.0, "the device's maximum current", "device capabilities"),
        Clamp(
            Layer.PROFILE,
            400.0,
            "the home profile's maximum amplitude",
            HOME.max_amplitude_ua.source,
        ),
        Clamp(Layer.PROTOCOL, 300.0, "the protocol's maximum for this step", "protocol"),
        Clamp(
            Layer.ZONE,
            200.0,
            "the eyes zone cap of the home profile",
            HOME.zone_caps_ua["eyes"].source,
        ),
        Clamp(Layer.CLIENT, 250.0, "the client's comfort limit", "client record"),
        Clamp(Layer.PRACTITIONER, 350.0, "the practitioner's setting", "practitioner"),
    ]
    assert c.value == 200.0


def test_without_optional_layers_only_the_profile_clamps() -> None:
    c = amplitude_constraint(100.0, HOME, zone="cheeks")

    assert [clamp.layer for clamp in c.clamps] == [Layer.PROFILE]
    assert c.binding is None
    assert c.explain() == "amplitude_ua is 100 as requested (within every limit)"


@pytest.mark.parametrize(
    ("keyword", "layer", "explanation"),
    [
        (
            "hardware_max_ua",
            Layer.HARDWARE,
            "by the hardware limit: the device's maximum current [source: device capabilities]",
        ),
        (
            "protocol_max_ua",
            Layer.PROTOCOL,
            "by the protocol limit: the protocol's maximum for this step [source: protocol]",
        ),
        (
            "client_max_ua",
            Layer.CLIENT,
            "by the client limit: the client's comfort limit [source: client record]",
        ),
        (
            "practitioner_max_ua",
            Layer.PRACTITIONER,
            "by the practitioner limit: the practitioner's setting [source: practitioner]",
        ),
    ],
)
def test_the_lowest_layer_binds_and_the_explanation_names_it(
    keyword: str, layer: Layer, explanation: str
) -> None:
    c = amplitude_constraint(300.0, HOME, **{keyword: 120.0})

    assert c.value == 120.0
    assert c.binding is not None and c.binding.layer is layer
    assert c.explain() == f"amplitude_ua is capped at 120 (requested 300) {explanation}"


def test_a_request_past_the_profile_is_capped_by_the_profile_with_its_source() -> None:
    c = amplitude_constraint(700.0, HOME)

    assert c.to_dict() == {
        "name": "amplitude_ua",
        "requested": 700.0,
        "value": 400.0,
        "capped_by": {
            "layer": "profile",
            "limit": 400.0,
            "reason": "the home profile's maximum amplitude",
            "source": HOME.max_amplitude_ua.source,
        },
        "explanation": (
            "amplitude_ua is capped at 400 (requested 700) by the profile limit: "
            f"the home profile's maximum amplitude [source: {HOME.max_amplitude_ua.source}]"
        ),
        "layers": [
            {
                "layer": "profile",
                "limit": 400.0,
                "reason": "the home profile's maximum amplitude",
                "source": HOME.max_amplitude_ua.source,
            }
        ],
    }


def test_an_uncapped_constraint_as_a_dict_has_no_binding_layer() -> None:
    data = amplitude_constraint(100.0, HOME).to_dict()

    assert data["capped_by"] is None
    assert data["value"] == 100.0


@pytest.mark.parametrize("requested", [-1.0, -1e-9, math.inf, -math.inf, math.nan])
def test_a_negative_or_non_finite_request_is_refused_naming_the_constraint(
    requested: float,
) -> None:
    with pytest.raises(InvalidValue) as caught:
        Constraint("level", requested)

    assert caught.value.field == "level"
    assert caught.value.rule == "must be a finite number, at least 0"
    assert caught.value.value is requested


def test_a_request_of_zero_is_allowed() -> None:
    assert Constraint("level", 0.0).value == 0.0


@pytest.mark.parametrize("limit", [-1.0, -1e-9, math.inf, -math.inf, math.nan])
def test_a_negative_or_non_finite_limit_caps_at_zero(limit: float) -> None:
    c = Constraint("amplitude_ua", 100.0).cap(Layer.CLIENT, limit, "odd", "test")

    assert c.value == 0.0
    assert c.clamps == [Clamp(Layer.CLIENT, 0.0, "odd", "test")]


@pytest.mark.parametrize("limit", [0.0, 0.5, 1.0])
def test_a_small_finite_limit_is_kept_as_given(limit: float) -> None:
    c = Constraint("amplitude_ua", 100.0).cap(Layer.CLIENT, limit, "small", "test")

    assert c.clamps[0].limit == limit
    assert c.value == limit


def test_of_two_equal_clamps_the_first_added_binds() -> None:
    c = (
        Constraint("amplitude_ua", 300.0)
        .cap(Layer.PROTOCOL, 150.0, "first", "a")
        .cap(Layer.CLIENT, 150.0, "second", "b")
    )

    assert c.binding == Clamp(Layer.PROTOCOL, 150.0, "first", "a")


@given(
    requested=st.floats(0, 2000),
    limits=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6),
)
def test_the_value_never_exceeds_the_request_or_any_finite_nonnegative_limit(
    requested: float, limits: list[float]
) -> None:
    c = Constraint("amplitude_ua", requested)
    for limit in limits:
        c.cap(Layer.CLIENT, limit, "any", "test")

    assert 0.0 <= c.value <= requested
    for limit in limits:
        assert c.value <= (limit if math.isfinite(limit) and limit >= 0 else 0.0)
