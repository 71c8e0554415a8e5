from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microamp import __version__
from microamp.cli.main import app

runner = CliRunner()

STATS_KEYS = {
    "peak_ua",
    "rms_ua",
    "mean_ua",
    "net_charge_uc",
    "abs_charge_uc",
    "max_imbalance_uc",
    "rms_density_ma_cm2",
    "limits",
}


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_stats_json_has_every_metric_and_a_clean_verdict() -> None:
    result = runner.invoke(
        app,
        ["waveform", "stats", "--amplitude-ua", "300", "--duration-s", "5", "--json"],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert STATS_KEYS <= doc.keys()
    assert doc["peak_ua"] == pytest.approx(300.0)
    assert doc["limits"] == {"profile": "home", "ok": True, "violations": [], "warnings": []}


def test_stats_reports_a_violation_but_still_exits_zero() -> None:
    result = runner.invoke(
        app,
        ["waveform", "stats", "--amplitude-ua", "600", "--profile", "home", "--json"],
    )
    assert result.exit_code == 0
    limits = json.loads(result.stdout)["limits"]
    assert limits["ok"] is False
    rules = {v["rule"]: v for v in limits["violations"]}
    assert rules["max_amplitude_ua"]["value"] == pytest.approx(600.0)
    assert rules["max_amplitude_ua"]["limit"] == 400.0
    assert {"rule", "value", "limit", "message"} <= rules["max_amplitude_ua"].keys()


def test_a_small_probe_raises_the_density_past_the_iec_threshold() -> None:
    result = runner.invoke(
        app,
        [
            "waveform", "stats", "--amplitude-ua", "400", "--duty", "1", "--polarity",
            "alternating", "--electrode-area-cm2", "0.1", "--duration-s", "1", "--json",
        ],
    )  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["rms_density_ma_cm2"] == pytest.approx(4.0)
    assert "max_rms_density_ma_cm2" in {v["rule"] for v in doc["limits"]["violations"]}


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--amplitude-ua", "-5"], "--amplitude-ua"),
        (["--amplitude-ua", "nan"], "--amplitude-ua"),
        (["--frequency-hz", "0"], "--frequency-hz"),
        (["--duty", "0"], "--duty"),
        (["--duty", "1.5"], "--duty"),
        (["--shape", "sawtooth"], "--shape"),
        (["--polarity", "up"], "--polarity"),
        (["--shape", "pulse", "--frequency-hz", "100", "--phase-us", "20000"], "--phase-us"),
        (["--duration-s", "-1"], "--duration-s"),
        (["--electrode-area-cm2", "0"], "--electrode-area-cm2"),
        (["--profile", "turbo"], "--profile"),
    ],
)
def test_bad_values_exit_two_with_one_line_naming_the_option(args: list[str], option: str) -> None:
    result = runner.invoke(app, ["waveform", "stats", *args, "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert option in lines[0] and "not allowed" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_an_image(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"wave{suffix}"
    result = runner.invoke(
        app,
        ["waveform", "plot", "--shape", "ramped-square", "--rise-s", "0.005", "--out", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    else:
        assert b"<svg" in data and b"time (ms)" in data


def test_plot_refuses_an_unknown_image_type(tmp_path: Path) -> None:
    result = runner.invoke(app, ["waveform", "plot", "--out", str(tmp_path / "w.gif")])
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_limits_show_json_lists_values_with_sources() -> None:
    result = runner.invoke(app, ["limits", "show", "--profile", "professional", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["name"] == "professional"
    assert doc["max_amplitude_ua"]["value"] == 1000
    assert doc["max_amplitude_ua"]["source"]


def test_demo_runs_to_the_end_without_tripping_the_guard() -> None:
    result = runner.invoke(app, ["demo", "--speed", "1000"])
    assert result.exit_code == 0, result.stderr
    assert "guard tripped: False" in result.stdout


def test_an_error_prints_what_was_typed_even_when_it_looks_like_markup() -> None:
    result = runner.invoke(app, ["waveform", "stats", "--shape", "[bold]x[/bold]"])
    assert result.exit_code == 2
    assert "'[bold]x[/bold]'" in result.stderr


def test_limits_show_names_a_custom_profile_as_custom_with_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "gentle.toml"
    path.write_text('name = "gentle"\n[limits]\nmax_amplitude_ua = 350\n', encoding="utf-8")
    result = runner.invoke(app, ["limits", "show", "--profile", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name"] == "custom:gentle" and data["content_hash"].startswith("sha256:")
    table = runner.invoke(app, ["limits", "show", "--profile", str(path)])
    assert "custom:gentle" in table.output and "based on home" in table.output


def test_limits_show_refuses_a_custom_profile_named_home(tmp_path: Path) -> None:
    path = tmp_path / "home.toml"
    path.write_text('name = "home"\n[limits]\nmax_amplitude_ua = 1000\n', encoding="utf-8")
    result = runner.invoke(app, ["limits", "show", "--profile", str(path)])
    assert result.exit_code == 2
    assert "built-in" in result.output
