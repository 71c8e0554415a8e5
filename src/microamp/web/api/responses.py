"""The error responses every API operation documents, so a client generated from the OpenAPI
knows them: 401 without a valid token, 403 for a role that may not, 404 for an unknown id,
409 when a session is refused (with the reasons), 413 for a body over the limit."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["ERROR_RESPONSES", "ErrorPublic", "RefusalPublic"]


class ErrorPublic(BaseModel):
    """An error a person can act on."""

    detail: str


class RefusalPublic(BaseModel):
    """A session that may not start, and every reason why."""

    detail: str
    reasons: list[str]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "No valid API token"},
    403: {"model": ErrorPublic, "description": "The token's role may not use this operation"},
    404: {"model": ErrorPublic, "description": "No such client, plan, record or session"},
    409: {
        "model": RefusalPublic,
        "description": "The client may not be treated now, or the device is in use",
    },
    413: {"model": ErrorPublic, "description": "The request body is over the limit it names"},
}
