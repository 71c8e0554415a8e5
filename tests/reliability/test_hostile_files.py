"""Hostile input: mutated protocol files and profile files end in InvalidValue naming where, or
in a valid value, never in another exception; `protocols check` answers 0 or 2, never a
traceback."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.errors import InvalidValue
from microamp.protocols import LIBRARY_DIR, parse_protocol, read_protocol_file
from microamp.safety import get_profile
from microamp.safety.limits import profile_from_dict

BASE = read_protocol_file(LIBRARY_DIR / "home-express.toml")

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a nested document."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(BASE)


def _mutate(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    node: Any = mutated
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return mutated


_DELETE = object()


@settings(max_examples=150)
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(junk, st.just(_DELETE))), min_size=1, max_size=3
    ),
    profile=st.sampled_from(["home", "professional"]),
)
def test_a_mutated_protocol_is_valid_or_invalid_by_name_never_a_crash(
    mutations: list[tuple[tuple[Any, ...], Any]], profile: str
) -> None:
    document = BASE
    for path, value in mutations:
        try:
            document = _mutate(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
    try:
        parse_protocol(document, get_profile(profile))
    except InvalidValue as exc:
        for error in getattr(exc, "errors", [exc]):
            assert error.field and error.rule


@settings(max_examples=40)
@given(
    path=st.sampled_from(PATHS),
    value=junk.filter(lambda v: v is not None and not isinstance(v, float) or v == v),
)
def test_protocols_check_answers_zero_or_two_for_any_file(
    tmp_path_factory: Any, path: tuple[Any, ...], value: Any
) -> None:
    folder: Path = tmp_path_factory.mktemp("protocols")
    target = folder / "mutated.toml"
    try:
        target.write_text(tomli_w.dumps(_mutate(BASE, path, value)), encoding="utf-8")
    except (TypeError, ValueError):
        target.write_text("name = [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["protocols", "check", str(target), "--profile", "home", "--json"]
    )
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


limits_values = st.one_of(junk, st.fixed_dictionaries({"value": junk, "source": junk}))


@settings(max_examples=100)
@given(
    limits=st.dictionaries(
        st.sampled_from(["max_amplitude_ua", "max_slew_ua_s", "min_frequency_hz", "bogus"]),
        limits_values,
        max_size=3,
    ),
    zones=st.dictionaries(st.sampled_from(["eyes", "neck", "ear"]), limits_values, max_size=2),
    base=st.sampled_from(["home", "professional", "turbo"]),
)
def test_a_custom_profile_is_accepted_or_refused_by_name(
    limits: dict[str, Any], zones: dict[str, Any], base: str
) -> None:
    try:
        profile = profile_from_dict(
            {"name": "x", "base": base, "limits": limits, "zone_caps_ua": zones}
        )
    except InvalidValue as exc:
        for error in getattr(exc, "errors", [exc]):
            assert error.field and error.rule
        return
    assert profile.max_amplitude_ua.value <= 1000.0
    assert profile.max_rms_density_ma_cm2.value <= 2.0
