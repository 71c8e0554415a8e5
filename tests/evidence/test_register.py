"""The requirements register: consistent tables, enforcing code that imports, SOUP and tracing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from microamp.errors import InvalidValue
from microamp.evidence import REGISTER, Register, unresolved_enforcers, validate_register
from microamp.evidence.soup import soup
from microamp.evidence.trace import collect_tests
from microamp.safety.limits import HOME


def test_the_register_is_consistent_and_every_enforcer_imports() -> None:
    validate_register(REGISTER)
    assert unresolved_enforcers(REGISTER) == []
    assert len(REGISTER.ids) == len(set(REGISTER.ids)) >= 40


def test_statements_carry_the_numbers_of_the_code() -> None:
    statement = REGISTER.requirement("SAF-AMP-01").statement
    assert f"{HOME.max_amplitude_ua.value:g} µA" in statement


def test_a_hazard_naming_an_unknown_requirement_is_refused() -> None:
    hazard = replace(REGISTER.hazards[0], controls=("SAF-NOPE-01",))
    broken = Register(REGISTER.requirements, (hazard, *REGISTER.hazards[1:]))
    with pytest.raises(InvalidValue) as info:
        validate_register(broken)
    assert "SAF-NOPE-01" in str(info.value)


def test_a_duplicate_requirement_id_is_refused() -> None:
    first = REGISTER.requirements[0]
    broken = Register((first, *REGISTER.requirements), REGISTER.hazards)
    with pytest.raises(InvalidValue) as info:
        validate_register(broken)
    assert first.id in str(info.value)


def test_an_enforcer_that_does_not_import_is_named() -> None:
    first = replace(REGISTER.requirements[0], enforced_by=("microamp.safety.guard:NoSuchGuard",))
    broken = Register((first, *REGISTER.requirements[1:]), REGISTER.hazards)
    assert unresolved_enforcers(broken) == [f"{first.id}: microamp.safety.guard:NoSuchGuard"]


def test_soup_lists_numpy_with_its_version_and_licence() -> None:
    items = {item.name.lower(): item for item in soup()}
    numpy = items["numpy"]
    assert numpy.version and "BSD" in numpy.licence
    assert "psycopg-binary" in items  # an extra a requirement asks for is followed


def test_a_requirement_without_a_marked_test_is_named(tmp_path: Path) -> None:
    tree = tmp_path / "tests"
    tree.mkdir()
    (tree / "test_one.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.requirement('SAF-AMP-01')\n"
        "def test_peak() -> None:\n"
        "    assert True\n",
        encoding="utf-8",
    )
    trace = collect_tests(tree, run=False)
    assert [t.requirements for t in trace.tests] == [("SAF-AMP-01",)]
    assert "SAF-AMP-01" not in trace.untested()
    assert "SAF-CHARGE-01" in trace.untested()
    assert any(line.startswith("SAF-CHARGE-01:") for line in trace.problems())


def test_a_failing_marked_test_is_reported(tmp_path: Path) -> None:
    tree = tmp_path / "tests"
    tree.mkdir()
    (tree / "test_one.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.requirement('SAF-AMP-01')\n"
        "def test_peak() -> None:\n"
        "    assert False\n",
        encoding="utf-8",
    )
    trace = collect_tests(tree, run=True)
    assert [t.outcome for t in trace.tests] == ["failed"]
    assert trace.failing() == ["SAF-AMP-01"]


@pytest.mark.slow
def test_every_requirement_in_the_register_has_a_marked_test() -> None:
    trace = collect_tests(Path(__file__).resolve().parents[1], run=False)
    assert trace.untested() == []


@pytest.mark.slow
def test_of_the_sim_fault_cases_only_the_pulled_cable_verifies_driver_failure_zeroing() -> None:
    # SAF-DEV-05 is a failing driver or a pulled cable; a lost contact or a stall is another rule
    trace = collect_tests(Path(__file__).resolve().parents[1] / "devices", run=False)
    sim_cases = [
        t.node_id.split("::")[1]
        for t in trace.tests_of("SAF-DEV-05")
        if t.node_id.startswith("tests/devices/test_sim.py::")
    ]
    assert sim_cases == [
        "test_each_injected_fault_ends_in_zero_output_and_a_fault_event[disconnect]"
    ]
