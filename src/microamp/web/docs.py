"""The API reference page, rendered by the app itself from its own OpenAPI document.

A page of ours rather than Swagger UI or Redoc: it is plain HTML in the app's layout (headings,
a contents list, one table per operation), so it needs no script at all, passes the strict
Content-Security-Policy as every other page does, works offline, and is read by a screen
reader and at a phone's width like the rest of the app. What it says comes from the same
document a client generator reads (`/api/v1/openapi.json`): every operation's parameters and
body fields with their types and rules, its answers with what each means on that route, and
the roles that may call it (`microamp.web.roles`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from microamp.web.roles import PUBLIC, ROUTE_ROLES

__all__ = ["ApiField", "ApiOperation", "ApiResponse", "ApiSection", "api_reference"]

_REF = "#/components/schemas/"


@dataclass(frozen=True, slots=True)
class ApiField:
    """A value the client sends: where (path, query, body, form), its type and its rules."""

    name: str
    where: str
    type: str
    required: bool
    rules: str
    description: str


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: str
    description: str
    body: str  # the schema's name, or "" for no documented body


@dataclass(frozen=True, slots=True)
class ApiOperation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    roles: str
    fields: tuple[ApiField, ...]
    responses: tuple[ApiResponse, ...]


@dataclass(frozen=True, slots=True)
class ApiSection:
    tag: str
    anchor: str
    operations: tuple[ApiOperation, ...]


def api_reference(openapi: dict[str, Any]) -> tuple[ApiSection, ...]:
    """The document's operations grouped by tag, in the document's order."""
    components: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    by_tag: dict[str, list[ApiOperation]] = {}
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(method, path, operation, components))
    return tuple(
        ApiSection(tag=tag, anchor=f"tag-{_slug(tag)}", operations=tuple(ops))
        for tag, ops in by_tag.items()
    )


def _operation(
    method: str, path: str, operation: dict[str, Any], components: dict[str, Any]
) -> ApiOperation:
    return ApiOperation(
        method=method.upper(),
        path=path,
        anchor=f"op-{method}-{_slug(path)}",
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        roles=_roles(method.upper(), path),
        fields=(*_parameters(operation), *_body_fields(operation, components)),
        responses=tuple(
            ApiResponse(
                status=status,
                description=str(answer.get("description", "")),
                body=_body_name(answer),
            )  # fmt: skip
            for status, answer in sorted(operation.get("responses", {}).items())
        ),
    )


def _roles(method: str, path: str) -> str:
    roles = ROUTE_ROLES.get((method, path))
    if roles is None:
        return ""
    return "anyone" if PUBLIC <= roles else ", ".join(sorted(roles))


def _parameters(operation: dict[str, Any]) -> list[ApiField]:
    return [
        ApiField(
            name=str(p["name"]),
            where=str(p.get("in", "")),
            type=_type(p.get("schema", {})),
            required=bool(p.get("required")),
            rules=_rules(p.get("schema", {})),
            description=str(p.get("description") or p.get("schema", {}).get("description", "")),
        )  # fmt: skip
        for p in operation.get("parameters", [])
    ]


def _body_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[ApiField]:
    fields: list[ApiField] = []
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        where = "form" if media.startswith("multipart/") else "body"
        schema = _resolve(content.get("schema", {}), components)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            fields.append(
                ApiField(
                    name=str(name),
                    where=where,
                    type=_type(prop),
                    required=name in required,
                    rules=_rules(prop),
                    description=str(prop.get("description", "")),
                )  # fmt: skip
            )
    return fields


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith(_REF):
        resolved: dict[str, Any] = components.get(ref.removeprefix(_REF), {})
        return resolved
    return schema


def _body_name(answer: dict[str, Any]) -> str:
    for content in answer.get("content", {}).values():
        schema = content.get("schema", {})
        if "$ref" in schema:
            return str(schema["$ref"]).removeprefix(_REF)
        if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
            return "list of " + str(schema["items"]["$ref"]).removeprefix(_REF)
        if schema:
            return _type(schema)
    return ""


def _type(schema: dict[str, Any]) -> str:
    """A JSON schema's type in a few words: ``integer``, ``string (date)``, ``list of string``,
    ``one of front, left45, right45``, ``ClientCreate``; ``or null`` where null is allowed."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(_REF)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return f"the value {schema['const']}"
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            kinds = [_type(s) for s in schema[combined] if s.get("type") != "null"]
            nullable = any(s.get("type") == "null" for s in schema[combined])
            return " or ".join(kinds) + (" or null" if nullable else "")
    kind = str(schema.get("type", "any value"))
    if kind == "array":
        return "list of " + _type(schema.get("items", {}))
    if kind == "string" and schema.get("format") == "binary":
        return "file"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return kind


_RULES = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "at least {}"),
    ("exclusiveMinimum", "above {}"),
    ("maximum", "at most {}"),
    ("exclusiveMaximum", "below {}"),
    ("pattern", "matching {}"),
    ("default", "default {}"),
)


def _rules(schema: dict[str, Any]) -> str:
    parts = [text.format(_shown(schema[key])) for key, text in _RULES if key in schema]
    for combined in ("anyOf", "oneOf"):
        for option in schema.get(combined, []):
            parts += [text.format(_shown(option[key])) for key, text in _RULES if key in option]
    return "; ".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "empty"
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
