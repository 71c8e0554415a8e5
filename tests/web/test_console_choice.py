"""The console's choices as posted: whatever is typed, a choice that passes holds a level of
1-100 % and a cap of 10-1000 µA (or none), and anything else is refused naming its field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microamp.errors import InvalidValue
from microamp.web import WebSettings
from microamp.web.pages.console_choice import parse_choice

SETTINGS = WebSettings(
    database_url="sqlite://", data_dir=Path("/nonexistent"), secret_key="k" * 40,
    device_url="sim://?load=gel",
)  # fmt: skip
NAMES = ["pro-express"]
numbers = st.one_of(
    st.integers(-10_000, 10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
)


def _typed(intensity: str, cap: str) -> dict[str, str]:
    return {"client_id": "1", "protocol": "pro-express", "device_url": "sim://?load=gel",
            "intensity": intensity, "practitioner_max_ua": cap}  # fmt: skip


@given(intensity=numbers, cap=numbers)
def test_a_console_choice_that_passes_never_holds_a_level_or_cap_out_of_range(
    intensity: str, cap: str
) -> None:
    try:
        _, _, _, level, cap_ua = parse_choice(SETTINGS, NAMES, _typed(intensity, cap))
    except InvalidValue as exc:
        fields = {e.field for e in getattr(exc, "errors", [exc])}
        assert fields <= {"intensity", "practitioner_max_ua"} and fields
        return
    assert 0.01 <= level <= 1.0
    assert cap_ua is None or (math.isfinite(cap_ua) and 10 <= cap_ua <= 1000)


def test_every_bad_choice_is_named_at_once() -> None:
    typed = _typed("500", "5") | {"client_id": "", "protocol": "nope", "device_url": "x://"}
    with pytest.raises(InvalidValue) as caught:
        parse_choice(SETTINGS, NAMES, typed)
    fields = [e.field for e in getattr(caught.value, "errors", [caught.value])]
    assert fields == ["client_id", "protocol", "device_url", "intensity", "practitioner_max_ua"]
