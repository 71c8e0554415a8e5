"""`microamp render`: a waveform or a session to WAV or CSV, through the limits and the guard."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.devices.capture import PCM_FULL_SCALE, read_wav_ua
from microamp.devices.sim import MAX_BLOCK
from microamp.safety import get_profile
from microamp.safety.charge import ChargeAccount
from microamp.safety.guard import GuardLimits, OutputGuard
from microamp.stimulus import Envelope, Renderer, Waveform

runner = CliRunner()
RATE_HZ = 20_000.0


def _render(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


def _after_limits(waveform: Waveform, n: int, peak_ua: float) -> np.ndarray:
    """The engine's samples after the limits, built as the simulator builds them."""
    profile = get_profile("home")
    renderer = Renderer(
        waveform,
        RATE_HZ,
        block_size=MAX_BLOCK,
        envelope=Envelope(ramp_up_s=1.0, ramp_down_s=1.0),
        intensity=1.0,
        max_slew_ua_s=profile.max_slew_ua_s.value,
    )
    guard = OutputGuard(
        GuardLimits.from_profile(profile, peak_ua=peak_ua),
        RATE_HZ,
        ChargeAccount.from_profile(profile, RATE_HZ),
    )
    out = []
    for start in range(0, n, 200):
        block = renderer.render(min(200, n - start))
        out.append(guard.process(block.samples_ua, block.envelope_ua).copy())
    return np.concatenate(out)


def test_a_rendered_wav_read_back_equals_the_renderers_samples_after_the_limits(
    tmp_path: Path,
) -> None:
    out = tmp_path / "square.wav"
    code, stdout, _ = _render(
        "--duration-s", "1.5", "--out", str(out), "--amplitude-ua", "300", "--json"
    )
    assert code == 0, stdout
    report = json.loads(stdout)
    rate_hz, samples = read_wav_ua(out, report["full_scale_ua"])
    assert rate_hz == RATE_HZ
    n = round(1.5 * RATE_HZ)
    assert samples.shape[0] >= n
    waveform = Waveform(shape="square", amplitude_ua=300.0, frequency_hz=10.0, reversal_s=2.5)
    expected = _after_limits(waveform, n, peak_ua=300.0)
    step_ua = report["full_scale_ua"] / PCM_FULL_SCALE
    assert report["step_ua"] == pytest.approx(step_ua)
    np.testing.assert_allclose(samples[:n, 0], expected, atol=step_ua / 2 + 1e-9)
    # gel takes all of it: channel 2, what flowed, is the same current
    np.testing.assert_allclose(samples[:n, 1], expected, atol=step_ua / 2 + 1e-9)
    assert np.abs(expected).max() == pytest.approx(300.0)


def test_a_csv_render_into_500_ohm_carries_ohms_law_voltage(tmp_path: Path) -> None:
    out = tmp_path / "r500.csv"
    code, stdout, _ = _render(
        "--duration-s", "1.2", "--out", str(out), "--device-load", "r500", "--json"
    )
    assert code == 0, stdout
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == json.loads(stdout)["samples"] >= round(1.2 * RATE_HZ)
    late = rows[round(1.1 * RATE_HZ)]
    assert float(late["commanded_ua"]) == pytest.approx(200.0, abs=1e-3)
    assert float(late["voltage_v"]) == pytest.approx(200e-6 * 500, abs=1e-4)


def test_a_lifted_probe_renders_the_trip_to_zero_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "lifted.wav"
    code, stdout, _ = _render("--duration-s", "1", "--out", str(out), "--device-load", "lifted")
    assert code == 1
    assert "contact_lost" in stdout
    _, samples = read_wav_ua(out, 1000.0)
    assert np.all(samples[:, 1] == 0.0)  # nothing ever flowed


def test_a_protocol_renders_as_a_whole_session(tmp_path: Path) -> None:
    out = tmp_path / "eye.wav"
    code, stdout, _ = _render("eye-area", "--out", str(out), "--rate-hz", "2000", "--json")
    assert code == 0, stdout
    report = json.loads(stdout)
    assert report["status"] == "completed"
    _, samples = read_wav_ua(out, report["full_scale_ua"])
    assert samples.shape[0] == report["samples"] > 60 * 2000
    # the eye zone's cap holds on every sample the probes carried
    assert np.abs(samples[:, 0]).max() <= 200.0 + report["step_ua"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--duration-s", "1", "--out", "x.txt"], "--out"),
        (["--duration-s", "1", "--out", "x.wav", "--device-load", "mud"], "--device-load"),
        (["--out", "x.wav"], "--duration-s"),
        (["eye-area", "--duration-s", "3", "--out", "x.wav"], "--duration-s"),
        (["--duration-s", "1", "--out", "x.wav", "--rate-hz", "10"], "--rate-hz"),
        (["--duration-s", "-1", "--out", "x.wav"], "--duration-s"),
        (["--duration-s", "1"], "--out"),
        (["--duration-s", "1", "--out", "x.wav", "--amplitude-ua", "5000"], "--amplitude-ua"),
        (["--duration-s", "1", "--out", "nowhere/x.wav"], "--out"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    args: list[str], option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _render(*args)
    assert code == 2
    assert stderr.startswith(f"error: {option}:"), stderr
    assert "Traceback" not in stderr
