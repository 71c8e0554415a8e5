"""The OpenAPI document describes each route's own 409 and 422: a conflict only where the route
can answer one, saying what it refuses there, and a 422 that names the route's own fields."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from microamp.web import WebSettings, create_app

# every operation that can answer 409, and words its description must carry
CONFLICTS = {
    ("post", "/api/v1/sessions"): ("may not be treated", "device is in use"),
    ("post", "/api/v1/sessions/{live_id}/intensity"): ("already ended",),
    # a control the session's station refused, with its words
    ("post", "/api/v1/sessions/{live_id}/pause"): ("refused the control",),
    ("post", "/api/v1/sessions/{live_id}/resume"): ("refused the control",),
    ("post", "/api/v1/sessions/{live_id}/stop"): ("refused the control",),
    ("post", "/api/v1/protocols"): ("library protocol", "version"),
    ("patch", "/api/v1/staff/{user_id}"): ("without an active owner",),
    ("post", "/api/v1/clients"): ("same name and date of birth", "allow_duplicate"),
    # an erasure the clinic's retention setting holds
    ("post", "/api/v1/clients/{client_id}/erasure"): ("retention hold", "the day the hold lifts"),
    # the appointment book: a slot taken, outside opening hours, or on a closure
    ("post", "/api/v1/appointments"): ("slot is taken", "opening hours", "closure"),
    ("patch", "/api/v1/appointments/{appointment_id}"): ("new slot is taken", "stays"),
    # a visit's step: its state, a change meanwhile, the device's own step, a closed visit
    ("post", "/api/v1/appointments/{appointment_id}/steps/{number}"): (
        "does not allow",
        "changed meanwhile",
        "microcurrent step",
        "cancelled",
    ),  # fmt: skip
}
FASTAPI_DEFAULT_422 = "Validation Error"


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir: Path = tmp_path_factory.mktemp("docs")
    settings = WebSettings(database_url=f"sqlite:///{data_dir / 'c.db'}", data_dir=data_dir,
                           secret_key="d" * 40, audit_checkpoint_s=0)  # fmt: skip
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def _fields(schema: dict[str, Any], op: dict[str, Any]) -> set[str]:
    """The names a client sends: parameters and the body's top-level properties."""
    names = {p["name"] for p in op.get("parameters", [])}
    for content in op.get("requestBody", {}).get("content", {}).values():
        ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
        names |= set(schema["components"]["schemas"][ref].get("properties", {}))
    return names


def test_only_the_routes_that_can_conflict_document_a_409_each_in_its_own_words(
    schema: dict[str, Any],
) -> None:
    documented = {(m, p): op["responses"]["409"]["description"]
                  for m, p, op in _operations(schema) if "409" in op["responses"]}  # fmt: skip
    assert set(documented) == set(CONFLICTS)
    for route, words in CONFLICTS.items():
        assert all(w in documented[route] for w in words), (route, documented[route])
    assert len(set(documented.values())) == len(documented)


def test_the_session_refusal_documents_its_reasons(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/v1/sessions"]["post"]["responses"]["409"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("/RefusalPublic")


def test_every_422_is_the_routes_own_and_names_only_its_fields(schema: dict[str, Any]) -> None:
    for method, path, op in _operations(schema):
        fields = _fields(schema, op)
        if not fields:
            assert "422" not in op["responses"], (method, path)
            continue
        described = op["responses"]["422"]["description"]
        assert described != FASTAPI_DEFAULT_422, (method, path)
        named = set(re.findall(r"`([a-z_0-9]+)`", described))
        assert named <= fields, (method, path, named - fields)
        schema_ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        assert schema_ref.endswith("/InvalidPublic")


def test_a_422_names_what_breaks_a_rule_on_that_route(schema: dict[str, Any]) -> None:
    def described(method: str, path: str) -> str:
        text: str = schema["paths"][path][method]["responses"]["422"]["description"]
        return text

    assert "`role`" in described("post", "/api/v1/staff")
    assert "`date_of_birth`" in described("post", "/api/v1/clients")
    assert "`level`" in described("post", "/api/v1/sessions/{live_id}/intensity")
    assert "`device_url`" in described("post", "/api/v1/sessions")
    assert "`toml_text`" in described("post", "/api/v1/protocols")
