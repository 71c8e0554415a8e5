"""`microamp protocols`: list, show, check and render, with their JSON and exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.protocols import LIBRARY_DIR, library_names

runner = CliRunner()


def test_list_json_names_every_library_protocol() -> None:
    result = runner.invoke(app, ["protocols", "list", "--json"])
    assert result.exit_code == 0
    names = [p["name"] for p in json.loads(result.stdout)["protocols"]]
    assert names == library_names() and len(names) >= 6


def test_show_json_lists_each_step_with_its_muscle_and_zone() -> None:
    result = runner.invoke(app, ["protocols", "show", "home-express", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["content_hash"].startswith("sha256:")
    assert document["steps"][1]["muscle"] == "platysma"
    assert all(step["muscle"] and step["zone"] for step in document["steps"])


def test_check_a_valid_file_exits_0() -> None:
    result = runner.invoke(
        app, ["protocols", "check", str(LIBRARY_DIR / "pro-lift.toml"), "--profile", "professional"]
    )
    assert result.exit_code == 0, result.output


def test_check_an_invalid_file_exits_2_listing_every_error(tmp_path: Path) -> None:
    text = (LIBRARY_DIR / "home-express.toml").read_text(encoding="utf-8")
    text = text.replace('muscle = "platysma"', 'muscle = "platysmaa"')
    text = text.replace('muscle = "mentalis"', 'muscle = "mentalis"\nintensity = 3')
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["protocols", "check", str(path), "--profile", "home", "--json"])
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert {e["field"] for e in errors} == {"steps[1].muscle", "steps[4].intensity"}
    plain = runner.invoke(app, ["protocols", "check", str(path), "--profile", "home"])
    assert plain.exit_code == 2
    assert "steps[1].muscle" in plain.stderr and "steps[4].intensity" in plain.stderr


def test_check_a_professional_protocol_under_home_exits_2() -> None:
    path = str(LIBRARY_DIR / "pro-lift.toml")
    result = runner.invoke(app, ["protocols", "check", path, "--profile", "home", "--json"])
    assert result.exit_code == 2
    fields = {e["field"] for e in json.loads(result.stdout)["errors"]}
    assert {"steps", "audience"} <= fields


def test_render_writes_the_face_map(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    result = runner.invoke(app, ["protocols", "render", "pro-lift", "--out", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert len(root.findall(".//{http://www.w3.org/2000/svg}g[@class='step']")) == 37


def test_render_refuses_a_file_that_is_not_svg(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["protocols", "render", "pro-lift", "--out", str(tmp_path / "map.png")]
    )
    assert result.exit_code == 2
