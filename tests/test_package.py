"""The public surface: every name a package exports exists, and the CLI starts."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["microamp.stimulus", "microamp.safety", "microamp.devices", "microamp.errors"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    assert exported, f"{name} declares no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
    assert sorted(exported) == sorted(set(exported))


def test_bad_input_errors_are_value_errors_naming_field_and_rule() -> None:
    from microamp.errors import InvalidValue, MicroampError

    error = InvalidValue("amplitude_ua", -1.0, "must be at least 0")
    assert isinstance(error, MicroampError) and isinstance(error, ValueError)
    assert str(error) == "amplitude_ua: -1 is not allowed: must be at least 0"


def test_the_command_starts_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "microamp", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "waveform" in result.stdout
