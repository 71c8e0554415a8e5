"""The design-history documents as text: requirements, hazards, traceability and SOUP.

Each function returns the whole file; `microamp evidence` writes them side by side.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from microamp.evidence.register import Register, Requirement
from microamp.evidence.soup import SoupItem
from microamp.evidence.trace import Traceability

__all__ = [
    "hazards_md",
    "requirements_document",
    "requirements_md",
    "soup_csv",
    "soup_md",
    "traceability_csv",
]


def _cell(text: str) -> str:
    """Text for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def requirement_dict(trace: Traceability, requirement: Requirement) -> dict[str, Any]:
    register = trace.register
    return {
        "id": requirement.id,
        "title": requirement.title,
        "statement": requirement.statement,
        "source": requirement.source,
        "enforced_by": list(requirement.enforced_by),
        "hazards": [h.id for h in register.hazards_of(requirement.id)],
        "tests": [
            {"node_id": t.node_id, "outcome": t.outcome} for t in trace.tests_of(requirement.id)
        ],
    }


def requirements_document(trace: Traceability) -> dict[str, Any]:
    """requirements.json: every requirement with its hazards and tests, and the hazard table."""
    register = trace.register
    return {
        "requirements": [requirement_dict(trace, r) for r in register.requirements],
        "hazards": [
            {
                "id": h.id,
                "hazard": h.hazard,
                "harm": h.harm,
                "cause": h.cause,
                "controls": list(h.controls),
            }
            for h in register.hazards
        ],
        "untested": trace.untested(),
        "failing": trace.failing(),
    }


def requirements_json(trace: Traceability) -> str:
    return json.dumps(requirements_document(trace), indent=2, ensure_ascii=False) + "\n"


def requirements_md(trace: Traceability) -> str:
    register = trace.register
    lines = [
        "# Software requirements: safety rules and limits",
        "",
        f"{len(register.requirements)} requirements, generated from the register in "
        "`microamp.evidence.register`. Each names the code that enforces it and the tests "
        "marked `requirement(...)` that verify it.",
        "",
    ]
    for requirement in register.requirements:
        hazards = ", ".join(h.id for h in register.hazards_of(requirement.id))
        lines += [
            f"## {requirement.id}: {requirement.title}",
            "",
            requirement.statement,
            "",
            f"- Source: {requirement.source}",
            f"- Hazards: {hazards}",
            "- Enforced by: " + ", ".join(f"`{e}`" for e in requirement.enforced_by),
        ]
        tests = trace.tests_of(requirement.id)
        if tests:
            lines.append("- Verified by:")
            lines += [f"  - `{t.node_id}` ({t.outcome})" for t in tests]
        else:
            lines.append("- Verified by: **no test**")
        lines.append("")
    return "\n".join(lines)


def hazards_md(register: Register) -> str:
    lines = [
        "# Hazards and their controls",
        "",
        "| id | hazard | harm | cause | controlled by |",
        "|---|---|---|---|---|",
    ]
    for h in register.hazards:
        controls = ", ".join(h.controls)
        lines.append(
            f"| {h.id} | {_cell(h.hazard)} | {_cell(h.harm)} | {_cell(h.cause)} | {controls} |"
        )
    return "\n".join(lines) + "\n"


def traceability_csv(trace: Traceability) -> str:
    """One row per requirement, hazard and test (the test empty where none is marked)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["requirement", "hazard", "test", "result"])
    for requirement in trace.register.requirements:
        tests = trace.tests_of(requirement.id)
        for hazard in trace.register.hazards_of(requirement.id):
            if not tests:
                writer.writerow([requirement.id, hazard.id, "", "no test"])
            for test in tests:
                writer.writerow([requirement.id, hazard.id, test.node_id, test.outcome])
    return out.getvalue()


def soup_csv(items: list[SoupItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "version", "licence", "homepage", "required_by"])
    for item in items:
        writer.writerow([item.name, item.version, item.licence, item.homepage, item.required_by])
    return out.getvalue()


def soup_md(items: list[SoupItem]) -> str:
    lines = [
        "# Software of unknown provenance (SOUP)",
        "",
        f"{len(items)} installed distributions microamp depends on, directly or through another, "
        "as their metadata states them.",
        "",
        "| name | version | licence | home page | required by |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(i.name)} | {_cell(i.version)} | {_cell(i.licence)} | {_cell(i.homepage)} "
        f"| {_cell(i.required_by)} |"
        for i in items
    ]
    return "\n".join(lines) + "\n"
