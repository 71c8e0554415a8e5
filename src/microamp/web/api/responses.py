"""The error responses the API documents, so a client generated from the OpenAPI knows them.

Every operation shares `ERROR_RESPONSES`: 401 without a valid token, 403 for a role that may
not, 404 for an unknown id, 413 for a body over the limit. A 409 or a 422 means something
different on each route, so each route that can answer one declares its own with `conflict`
and `invalid`, saying what on that route is refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = [
    "ERROR_RESPONSES",
    "ErrorPublic",
    "FieldErrorPublic",
    "InvalidPublic",
    "RefusalPublic",
    "Responses",
    "conflict",
    "invalid",
]

Responses = dict[int | str, dict[str, Any]]


class ErrorPublic(BaseModel):
    """An error a person can act on."""

    detail: str


class RefusalPublic(BaseModel):
    """A session that may not start, and every reason why."""

    detail: str
    reasons: list[str]


class FieldErrorPublic(BaseModel):
    """One value that breaks a rule: where it is (``["body", "role"]``), the rule, the value."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None


class InvalidPublic(BaseModel):
    """Every value of the request that breaks a rule, each naming its field."""

    detail: list[FieldErrorPublic]


ERROR_RESPONSES: Responses = {
    401: {"model": ErrorPublic, "description": "No valid API token"},
    403: {"model": ErrorPublic, "description": "The token's role may not use this operation"},
    404: {"model": ErrorPublic, "description": "No such client, plan, record or session"},
    413: {"model": ErrorPublic, "description": "The request body is over the limit it names"},
}


def conflict(description: str, *, reasons: bool = False) -> Responses:
    """The route's 409: ``description`` says what it refuses; ``reasons``: the body lists
    every reason (`RefusalPublic`), else it names one (`ErrorPublic`)."""
    return {409: {"model": RefusalPublic if reasons else ErrorPublic, "description": description}}


def unavailable(description: str) -> Responses:
    """The route's 503: ``description`` says what did not answer."""
    return {503: {"model": ErrorPublic, "description": description}}


def invalid(description: str) -> Responses:
    """The route's 422: ``description`` says which of its values have rules, and which."""
    return {422: {"model": InvalidPublic, "description": description}}
