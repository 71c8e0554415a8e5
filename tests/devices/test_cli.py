"""The device commands' contracts: exit codes and JSON documents."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from microamp.cli import devices, firmware, stimulate

app = typer.Typer()
app.add_typer(devices.app, name="devices")
app.command(name="stimulate")(stimulate.stimulate)
app.command(name="firmware-emulator")(firmware.firmware_emulator)
runner = CliRunner()


def _run(*args: str) -> tuple[int, dict[str, object] | None]:
    result = runner.invoke(app, list(args))
    document = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result.exit_code, document


def test_devices_list_json_names_every_backend_and_its_availability() -> None:
    code, document = _run("devices", "list", "--json")
    assert code == 0 and document is not None
    backends = {b["name"]: b for b in document["backends"]}  # type: ignore[attr-defined]
    assert {"sim", "serial", "audio"} <= set(backends)
    assert backends["sim"]["available"] is True


def test_probe_reports_capabilities_and_good_contact_on_gel() -> None:
    code, document = _run("devices", "probe", "sim://?load=gel", "--json")
    assert code == 0 and document is not None
    assert document["capabilities"]["backend"] == "sim"  # type: ignore[index]
    contact = document["contact"]
    assert contact["ok"] is True and contact["test_current_ua"] == 50.0  # type: ignore[index]


def test_probe_fails_with_exit_1_when_a_probe_is_lifted() -> None:
    code, document = _run("devices", "probe", "sim://?load=lifted", "--json")
    assert code == 1 and document is not None
    assert document["contact"]["verdict"] == "no_contact"  # type: ignore[index]


def test_stimulate_completes_on_gel_and_reports_charge_and_impedance() -> None:
    code, document = _run(
        "stimulate", "sim://?load=gel", "--duration-s", "2", "--speed", "max", "--json"
    )
    assert code == 0 and document is not None
    assert document["status"] == "completed" and document["faults"] == []
    assert document["duration_s"] == 2.0
    assert 100 < document["delivered_charge_uc"] < 300  # type: ignore[operator]
    assert 10_000 < document["mean_impedance_ohm"] < 40_000  # type: ignore[operator]


def test_stimulate_aborted_by_a_fault_exits_1_with_the_fault_in_device_time() -> None:
    code, document = _run(
        "stimulate", "sim://?fault=contact-loss@1.25", "--duty", "1",
        "--duration-s", "3", "--speed", "max", "--json",
    )  # fmt: skip
    assert code == 1 and document is not None
    assert document["status"] == "aborted"
    (fault,) = document["faults"]  # type: ignore[misc]
    assert fault["code"] == "contact_lost"
    assert set(fault) == {"code", "message", "onset_t_s", "detected_t_s", "zero_t_s"}
    assert fault["onset_t_s"] >= 1.25


def test_stimulate_bad_input_exits_2() -> None:
    for url in ("sim://?load=mud", "nosuch://x", "not a url", "sim://?fault=boom@1"):
        code, _ = _run("stimulate", url, "--duration-s", "1", "--speed", "max")
        assert code == 2, url
    code, _ = _run("stimulate", "sim://", "--duration-s", "1", "--speed", "fast")
    assert code == 2
    code, _ = _run("stimulate", "sim://", "--duration-s", "1", "--amplitude-ua", "2000")
    assert code == 2


def test_firmware_emulator_prints_its_path_first_and_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "microamp", "firmware-emulator"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        path = process.stdout.readline().strip()
        assert path.startswith("/dev/")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_devices_list_names_the_audio_extra_literally() -> None:
    result = runner.invoke(app, ["devices", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "microamp[audio]" in result.stdout


def test_an_unavailable_backend_names_its_extra_and_exits_two() -> None:
    from microamp.devices import available_backends

    if {b.name: b for b in available_backends()}["audio"].available:
        pytest.skip("sounddevice is installed here: the audio backend is available")
    result = runner.invoke(app, ["stimulate", "audio://default", "--duration-s", "1"])
    assert result.exit_code == 2
    assert "microamp[audio]" in result.stderr


def test_stimulate_on_serial_above_the_zone_cap_exits_2_naming_field_value_and_rule() -> None:
    from microamp.devices.emulator import FirmwareEmulator

    with FirmwareEmulator("sim://?ramp_s=0").start() as emulator:
        result = runner.invoke(
            app,
            [
                "stimulate", f"serial://{emulator.path}", "--profile", "home", "--zone", "eyes",
                "--amplitude-ua", "900", "--duration-s", "1",
            ],
            env={"COLUMNS": "400"},
        )  # fmt: skip
        delivered = emulator.sim.delivered_uc
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--amplitude-ua" in lines[0] and "900" in lines[0]
    assert "zone limit of 200 µA" in lines[0] and "eyes" in lines[0]
    assert delivered == 0.0


@pytest.mark.requirement("SAF-CHAR-01")
def test_a_coarse_sim_step_is_refused_naming_the_url_parameter_the_user_wrote() -> None:
    result = runner.invoke(
        app,
        ["stimulate", "sim://?step_ua=10", "--duration-s", "1", "--speed", "max"],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: step_ua: 10 is not allowed:"), line
    assert "2 %" in line and "IEC 60601-2-10" in line


@pytest.mark.requirement("SAF-CHAR-01")
def test_a_coarse_serial_device_refuses_every_command_naming_its_own_step() -> None:
    from microamp.devices.emulator import FirmwareEmulator

    # 25 µA is 2.5 % of the emulator's 1000 µA, and 6.25 % of the home profile's 400 µA
    with FirmwareEmulator("sim://?ramp_s=0&step_ua=25").start() as emulator:
        result = runner.invoke(
            app,
            [
                "stimulate", f"serial://{emulator.path}", "--profile", "home",
                "--amplitude-ua", "100", "--duration-s", "1",
            ],
            env={"COLUMNS": "400"},
        )  # fmt: skip
        delivered = emulator.sim.delivered_uc
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: current_step_ua: 25 is not allowed:"), line
    assert "400 µA under the home profile" in line
    assert delivered == 0.0
