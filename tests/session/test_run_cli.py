"""`microamp run`: the JSON summary contract and its exit codes."""

from __future__ import annotations

import getpass
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.cli.run import LiveSession
from microamp.protocols import Protocol
from microamp.safety import get_profile
from microamp.session import SessionRunner

runner = CliRunner()
KEYS = {
    "status", "protocol", "duration_s", "steps_completed", "steps_total", "delivered_charge_uc",
    "dose_by_zone", "faults", "events_count",
}  # fmt: skip


def test_run_json_completes_with_every_summary_key_and_exit_0() -> None:
    result = runner.invoke(
        app, ["run", "eye-area", "--device", "sim://?load=gel&rate_hz=5000", "--speed", "max",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert KEYS <= set(summary)
    assert summary["status"] == "completed"
    assert summary["steps_completed"] == summary["steps_total"] == 9
    assert summary["profile"] == "home"
    assert summary["dose_by_zone"]["eyes"]["charge_uc"] > 0


def test_run_json_contact_loss_exits_1_with_the_fault() -> None:
    result = runner.invoke(
        app, ["run", "home-express", "--device", "sim://?load=gel&fault=contact-loss@12",
              "--speed", "max", "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "aborted"
    assert [f["code"] for f in summary["faults"]] == ["contact_lost"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "home-expres", "--device", "sim://?load=gel"], "did you mean 'home-express'"),
        (["run", "home-express", "--device", "sim://?load=mud"], "load"),
        (["run", "home-express", "--device", "sim://?load=gel", "--speed", "fast"], "speed"),
        (["run", "home-express", "--device", "serial:///dev/null", "--speed", "10"], "simulator"),
        (["run", "home-express", "--device", "sim://", "--intensity", "2"], "intensity"),
        (
            ["run", "pro-lift", "--device", "sim://", "--profile", "home", "--speed", "max"],
            "max_session_s",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_problem(args: list[str], words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_the_live_view_runs_without_a_terminal_and_prints_the_outcome() -> None:
    result = runner.invoke(
        app, ["run", "eye-area", "--device", "sim://?load=gel&rate_hz=5000", "--speed", "max"]
    )
    assert result.exit_code == 0, result.output
    assert "eye-area: completed" in result.stdout
    assert "µC delivered" in result.stdout


def test_a_key_pressed_at_the_terminal_names_the_os_user_as_the_operator(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim(), profile=get_profile("home"))
    view = LiveSession(runner)
    runner.start()
    runner.tick()
    view._keys("s")
    runner.tick()
    ended = runner.events[-1].to_dict()
    assert ended["status"] == "stopped"
    assert ended["operator"] == {"user_id": None, "name": getpass.getuser(), "via": "cli"}
    assert ended["reason"] == f"stopped by {getpass.getuser()}"


def test_the_terminal_view_says_when_the_skin_holds_the_current_and_never_reads_negative(
    open_sim: Any, small_protocol: Callable[..., Protocol]
) -> None:
    runner = SessionRunner(small_protocol(), open_sim("sim://?load=gel&rp_ohm=80000"),
                           profile=get_profile("home"))  # fmt: skip
    view = LiveSession(runner)
    runner.start()
    shown = ""
    while not runner.status.final and "dry skin: holding" not in shown:
        runner.tick()
        out = Console(width=160, record=True, file=io.StringIO())
        out.print(view.render())
        shown = out.export_text()
    assert "dry skin: holding" in shown and "µA of 300 µA" in shown
    assert " -" not in view._live_line().split("µA mean")[0]
