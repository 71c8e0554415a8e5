"""Whatever a person types, the CLI answers with a result or one clear error, never a traceback."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from microamp.cli.main import app

runner = CliRunner()

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet="0123456789.-+eEnaif", min_size=0, max_size=8),
)
OPTIONS = {
    "--shape": st.sampled_from(["square", "ramped-square", "sine", "triangle", "pulse", "saw", ""]),
    "--polarity": st.sampled_from(["positive", "negative", "alternating", "biphasic", "up"]),
    "--amplitude-ua": numbers,
    "--frequency-hz": numbers,
    "--duty": numbers,
    "--reversal-s": numbers,
    "--rise-s": numbers,
    "--phase-us": numbers,
    "--electrode-area-cm2": numbers,
    "--profile": st.sampled_from(["home", "professional", "x.toml", "nope"]),
}


@settings(max_examples=80)
@given(chosen=st.fixed_dictionaries({}, optional=OPTIONS))
def test_waveform_stats_never_raises_a_traceback(chosen: dict[str, str]) -> None:
    args = ["waveform", "stats", "--json", "--duration-s", "0.2", "--sample-rate-hz", "5000"]
    for option, value in chosen.items():
        args += [f"{option}={value}"]
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), (args, result.stderr)
    if result.exit_code == 0:
        assert "limits" in json.loads(result.stdout)
    else:
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
