"""`microamp characterize`: the table, the JSON document, the HTML report and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.session.characterize import CHARACTERIZE_LOADS

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["characterize", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_report_is_written_and_names_every_load(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, stderr = _run("sim://", "--out", str(out))
    assert code == 0, stderr
    page = out.read_text(encoding="utf-8")
    for load in CHARACTERIZE_LOADS:
        assert f"<td>{load}</td>" in page
    assert page.count("<svg") == 4 * len(CHARACTERIZE_LOADS)
    assert "<script" not in page and " on" not in page.split("<body>")[1].split("=")[0]
    assert "report written to" in stdout
    assert "measuring square into r500" in stderr
    assert "lowest setting 1.00 µA of 400.0 µA" in stdout


def test_json_is_one_document_with_every_requirement() -> None:
    code, stdout, _ = _run("sim://", "--json", "--electrode-area-cm2", "2")
    assert code == 0
    document = json.loads(stdout)
    assert document["loads"] == list(CHARACTERIZE_LOADS)
    square = next(
        r for r in document["waveforms"] if r["waveform"] == "square" and r["load"] == "r500"
    )
    assert square["net_charge_per_pulse_uc"] == pytest.approx(5.0, rel=0.01)
    assert square["density_ua_cm2"] == pytest.approx(35.355, rel=0.01)
    assert document["lowest_setting"]["passed"] is True
    assert {r["kind"] for r in document["fault_reactions"]} == {
        "contact-loss", "dry", "drying", "disconnect", "stall",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["serial:///dev/ttyUSB0"], "--load"),
        (["audio://default"], "--device-url"),
        (["serial:///dev/ttyUSB0", "--watch-s", "-1", "--load", "r500"], "--watch-s"),
        (["serial:///dev/ttyUSB0", "--load", "wood"], "--load"),
        (["sim://", "--electrode-area-cm2", "0"], "--electrode-area-cm2"),
        (["sim://", "--step-ua", "0"], "--step-ua"),
        (["sim://", "--out", "report.txt"], "--out"),
        (["sim://", "--out", "/no/such/folder/report.html"], "--out"),
        (["sim://?load=wood"], "load"),
        (["sim://", "--profile", "nope"], "--profile"),
    ],
)
def test_bad_input_exits_2_naming_the_option(args: list[str], option: str) -> None:
    code, stdout, stderr = _run(*args)
    assert code == 2, stdout
    assert option in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
