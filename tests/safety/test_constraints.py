from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.safety import Constraint, Layer, amplitude_constraint, get_profile

layers = st.lists(
    st.tuples(st.sampled_from(list(Layer)), st.floats(allow_nan=True, allow_infinity=True)),
    max_size=8,
)


@pytest.mark.requirement("SAF-AMP-03")
@given(requested=st.floats(0.0, 5000.0), caps=layers)
def test_the_effective_value_is_the_minimum_over_every_layer(
    requested: float, caps: list[tuple[Layer, float]]
) -> None:
    constraint = Constraint("amplitude_ua", requested)
    for layer, limit in caps:
        constraint.cap(layer, limit, "reason", "source")
    value = constraint.value
    assert value <= requested
    for _, limit in caps:
        # a non-finite or negative limit fails safe: it caps at zero
        assert value <= (limit if math.isfinite(limit) and limit >= 0 else 0.0)
    binding = constraint.binding
    assert (binding is None) == (value == requested)
    if binding is not None:
        assert binding.limit == value


def test_explain_names_the_layer_reason_and_source_of_the_cap() -> None:
    c = amplitude_constraint(
        350.0, get_profile("home"), zone="eyes", hardware_max_ua=600.0, client_max_ua=180.0
    )
    assert c.value == 180.0
    text = c.explain()
    assert "180" in text and "client" in text and "client record" in text


@pytest.mark.requirement("SAF-AMP-02")
def test_the_eye_zone_caps_a_home_request_at_200() -> None:
    c = amplitude_constraint(350.0, get_profile("home"), zone="eyes")
    assert c.value == 200.0
    assert c.binding is not None and c.binding.layer == Layer.ZONE
    assert "K131251" in c.binding.source


def test_an_uncapped_request_says_so() -> None:
    c = amplitude_constraint(100.0, get_profile("professional"))
    assert c.binding is None and "as requested" in c.explain()
