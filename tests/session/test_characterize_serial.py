"""`microamp characterize serial://` against a real firmware emulator on a pseudo-terminal.

The emulator renders with the sim physics, so the same run on `sim://` is the reference: what
telemetry can carry (peak, mean absolute current, headroom, delivery, the lowest setting) must
agree with it, what it cannot (r.m.s., DC, charge per pulse and per phase, density) is reported
as not measurable, and the fault reactions are timed over the serial path from the frames.
The emulator runs on the wall clock and its injected faults count from its power-on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.clock import RealClock
from microamp.devices import open_device
from microamp.devices.emulator import FirmwareEmulator
from microamp.devices.firmware import WATCHDOG_S
from microamp.errors import InvalidValue
from microamp.safety import get_profile
from microamp.session.characterize import (
    FAULT_REACTION_LIMIT_S,
    FREQUENCY_HZ,
    NO_TELEMETRY,
    characterize,
)
from microamp.session.characterize_telemetry import NOT_MEASURABLE, SILENT_HOST, watch_faults

HOME = get_profile("home")
# the sim's settings characterize gives every test load: no noise, no start ramp
QUIET = "noise_ua=0&noise_v=0&ramp_s=0"
# Telemetry frames are 10 ms windows: a time seen in them is known to one window. Currents and
# voltages are float32 on the wire; 1 % and 0.5 µA is what the sim's own report allows a command.
FRAME_S = 0.01
CURRENT_TOLERANCE = 0.01
CURRENT_FLOOR_UA = 0.5
HEADROOM_TOLERANCE_V = 0.01
LINK_LATENCY_S = 0.05
LOOP_LATENESS_S = 0.25


def _characterize_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["characterize", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def over_serial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    page = tmp_path_factory.mktemp("serial") / "report.html"
    with FirmwareEmulator(f"sim://?load=r500&{QUIET}").start() as emulator:
        code, stdout, stderr = _characterize_cli(
            f"serial://{emulator.path}", "--load", "r500", "--json", "--out", str(page)
        )
    assert code == 0, stderr
    document: dict[str, Any] = json.loads(stdout)
    document["page"] = page.read_text(encoding="utf-8")
    return document


@pytest.fixture(scope="module")
def on_sim() -> dict[str, Any]:
    return characterize("sim://", HOME, electrode_area_cm2=1.0, loads=("r500",)).to_dict()


def _close(serial_ua: float, sim_ua: float) -> bool:
    return abs(serial_ua - sim_ua) <= CURRENT_TOLERANCE * abs(sim_ua) + CURRENT_FLOOR_UA


def test_serial_figures_match_the_same_run_on_sim(
    over_serial: dict[str, Any], on_sim: dict[str, Any]
) -> None:
    assert over_serial["measured_from"] == "telemetry"
    assert over_serial["loads"] == ["r500"]
    pairs = list(zip(over_serial["waveforms"], on_sim["waveforms"], strict=True))
    assert [s["waveform"] for s, _ in pairs] == ["square", "biphasic", "sine", "alternating"]
    for serial_row, sim_row in pairs:
        name = serial_row["waveform"]
        assert _close(serial_row["peak_ua"], sim_row["peak_ua"]), name
        assert _close(serial_row["mean_abs_ua"], sim_row["mean_abs_ua"]), name
        assert serial_row["headroom_v"] == pytest.approx(
            sim_row["headroom_v"], abs=HEADROOM_TOLERANCE_V
        ), name
        assert serial_row["delivered"] is sim_row["delivered"] is True, name
        assert serial_row["passed"] is sim_row["passed"], name
    # hand figures for the square into 500 ohm: 100 µA for half of each period
    square = over_serial["waveforms"][0]
    assert square["peak_ua"] == pytest.approx(100.0, rel=CURRENT_TOLERANCE)
    assert square["mean_abs_ua"] == pytest.approx(50.0, rel=CURRENT_TOLERANCE)
    low, sim_low = over_serial["lowest_setting"], on_sim["lowest_setting"]
    assert _close(low["lowest_ua"], sim_low["lowest_ua"])
    assert _close(low["highest_ua"], sim_low["highest_ua"])
    assert low["passed"] is sim_low["passed"] is True


def test_what_telemetry_cannot_carry_is_reported_not_measurable(
    over_serial: dict[str, Any],
) -> None:
    for row in over_serial["waveforms"]:
        for name in ("rms_ua", "dc_ua", "net_charge_per_pulse_uc", "max_phase_charge_uc"):
            assert row[name] is None, (row["waveform"], name)
        assert row["density_ua_cm2"] is None
        assert row["not_measured"] == NOT_MEASURABLE
    page = over_serial["page"]
    assert "measured from the device's telemetry" in page
    assert f"n/m: {NOT_MEASURABLE}" in page and "<td>n/m</td>" in page


@pytest.mark.requirement("SAF-DEV-02", "SAF-CHAR-02")
def test_the_firmware_watchdog_is_timed_from_telemetry_when_the_host_falls_silent(
    over_serial: dict[str, Any],
) -> None:
    (silent,) = over_serial["fault_reactions"]
    assert silent["kind"] == SILENT_HOST
    assert silent["measured_from"] == "telemetry"
    assert "watchdog" in silent["faults"]
    # the last current seen is at most the square's off half plus a frame before the watchdog
    # fires (nothing is commanded in the gaps); device times reach the host through the offset
    # taken at HELLO, off by the link's latency; a starved emulator loop can only fire late
    off_half_s = 0.5 / FREQUENCY_HZ
    earliest_s = WATCHDOG_S - off_half_s - FRAME_S - LINK_LATENCY_S
    assert earliest_s <= silent["reaction_s"] <= WATCHDOG_S + LOOP_LATENESS_S
    assert silent["passed"] is True


@pytest.mark.requirement("SAF-CHAR-02")
@pytest.mark.parametrize(
    ("kind", "code"), [("contact-loss", "contact_lost"), ("dry", "compliance")]
)
def test_fault_reactions_are_timed_over_the_serial_path_as_on_sim(kind: str, code: str) -> None:
    reference = characterize("sim://", HOME, electrode_area_cm2=1.0, loads=("r500",))
    on_sim = next(r for r in reference.reactions if r.kind == kind)
    assert on_sim.reaction_s is not None
    # at 20 V the dry load reaches the rail whether it dried before or after the output began
    url = f"sim://?load=gel&{QUIET}&compliance_v=20&fault={kind}@1.0"
    with FirmwareEmulator(url).start() as emulator:
        with open_device(f"serial://{emulator.path}", clock=RealClock(), profile=HOME) as device:
            (reaction,) = watch_faults(device, HOME, 15.0, stop_after=1)
    assert reaction.kind == code
    assert reaction.measured_from == "telemetry"
    assert reaction.reaction_s is not None
    assert reaction.reaction_s <= on_sim.reaction_s + FRAME_S + 0.005
    assert reaction.reaction_s <= FAULT_REACTION_LIMIT_S and reaction.passed


def test_an_audio_device_is_refused_for_having_no_telemetry() -> None:
    with pytest.raises(InvalidValue) as caught:
        characterize("audio://default", HOME, electrode_area_cm2=1.0, load="r500")
    assert caught.value.field == "device_url"
    assert caught.value.rule == NO_TELEMETRY
    code, stdout, stderr = _characterize_cli("audio://default", "--load", "gel")
    assert code == 2, stdout
    assert "--device-url" in stderr and "has no telemetry" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_device_other_than_sim_must_say_what_is_attached() -> None:
    with pytest.raises(InvalidValue) as caught:
        characterize("serial:///dev/null", HOME, electrode_area_cm2=1.0)
    assert caught.value.field == "load"


def test_a_start_ramp_of_the_devices_own_is_waited_out_before_measuring() -> None:
    # the emulator's sim ramps up over a second from every fresh start; the host cannot know it
    with FirmwareEmulator("sim://?load=r500&noise_ua=0&noise_v=0").start() as emulator:
        report = characterize(
            f"serial://{emulator.path}", HOME, electrode_area_cm2=1.0, load="r500"
        )
    square = report.rows[0]
    assert square.peak_ua == pytest.approx(100.0, rel=CURRENT_TOLERANCE)
    assert square.mean_abs_ua == pytest.approx(50.0, rel=CURRENT_TOLERANCE)
    assert all(row.passed for row in report.rows)
    assert report.lowest.highest_ua == pytest.approx(HOME.max_amplitude_ua.value, rel=0.01)


@pytest.mark.requirement("SAF-CHAR-02")
def test_a_probe_lifted_during_the_run_is_a_finding_and_its_reaction_is_timed_by_watching() -> None:
    # the probe lifts a second after the emulator's power-on, early in the waveform table
    url = f"sim://?load=gel&{QUIET}&fault=contact-loss@1.0"
    with FirmwareEmulator(url).start() as emulator:
        code, stdout, stderr = _characterize_cli(
            f"serial://{emulator.path}", "--load", "gel", "--watch-s", "2", "--json"
        )
    assert code == 0, stderr
    document = json.loads(stdout)
    assert document["passed"] is False
    assert not document["waveforms"][-1]["passed"]
    assert document["waveforms"][-1]["faults"] == ["contact_lost"]
    # no current reached the load at the highest setting: nothing to compare, and no pass
    assert document["lowest_setting"]["share_pct"] is None
    assert document["lowest_setting"]["passed"] is False
    silent, lifted = document["fault_reactions"]
    assert silent["kind"] == SILENT_HOST and silent["reaction_s"] is None
    assert silent["faults"] == ["contact_lost"] and silent["passed"] is False
    assert lifted["kind"] == "contact_lost" and lifted["measured_from"] == "telemetry"
    assert lifted["reaction_s"] <= FRAME_S + 0.005 and lifted["passed"] is True
