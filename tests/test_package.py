"""The public surface: every name a package exports exists, and the CLI starts."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = [
    "microamp.stimulus",
    "microamp.safety",
    "microamp.devices",
    "microamp.errors",
    "microamp.station",
]


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


# Layers, lowest first; a module may import its own layer and those below it, never above.
LAYERS = [
    {"errors", "clock"}, {"stimulus"}, {"safety"}, {"devices"}, {"protocols"}, {"session"},
    {"clinic", "store"}, {"station"}, {"evidence"}, {"web", "cli"},
]  # fmt: skip


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )  # fmt: skip
        found |= {n.split(".")[1] for n in names if n.startswith("microamp.") and "." in n}
    return found


def _rank(package: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if package in layer), None)


@pytest.mark.parametrize("layer", sorted(set().union(*LAYERS) - {"errors", "clock"}))
def test_a_layer_never_imports_a_higher_one(layer: str) -> None:
    import microamp

    root = Path(microamp.__file__).parent / layer
    own = _rank(layer)
    assert own is not None
    upward = {
        f"{path.relative_to(root.parent)} imports microamp.{package}"
        for path in sorted(root.rglob("*.py"))
        for package in _imported_packages(path)
        if (rank := _rank(package)) is not None and rank > own
    }
    assert sorted(upward) == []
