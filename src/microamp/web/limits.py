"""Request body limits, enforced before anything reads the body.

A body over its limit is refused with 413 and a message naming the limit, before the form or
JSON parser sees a byte: nothing is spooled to a temporary file, nothing reaches the photos
directory, no record is started. The declared ``Content-Length`` is checked first; a body sent
without one (chunked) is counted as it arrives and refused at the first byte over the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microamp.store.photos import MAX_PHOTO_BYTES
from microamp.web.errors import error_response

__all__ = ["MAX_BODY_BYTES", "MAX_UPLOAD_BYTES", "BodyLimitMiddleware", "body_limit"]

# Forms and JSON bodies: intake answers, plans, notes are a few kilobytes at most.
MAX_BODY_BYTES = 1024 * 1024
# A multipart upload: one photo at its limit, plus the form's other fields and boundaries.
MAX_UPLOAD_BYTES = MAX_PHOTO_BYTES + 64 * 1024


class BodyTooLarge(Exception):
    """The body grew past ``limit`` bytes while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"over {limit} bytes")
        self.limit = limit


def body_limit(headers: Headers) -> int:
    """The byte limit of a request body with these headers."""
    content_type = headers.get("content-type", "")
    return MAX_UPLOAD_BYTES if content_type.startswith("multipart/") else MAX_BODY_BYTES


def _declared_length(headers: Headers) -> int | None:
    raw = headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


def _message(limit: int) -> str:
    if limit == MAX_UPLOAD_BYTES:
        return f"the upload is too large: a photo may be at most {MAX_PHOTO_BYTES // 2**20} MB"
    return f"the request body is too large: at most {limit // 1024} KB"


class BodyLimitMiddleware:
    """Refuse any HTTP request whose body is over `body_limit` with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = body_limit(headers)
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if exceeded:
                # the app's own answer to a body cut short (FastAPI's 400 "error parsing the
                # body") gives way to the 413 below, which says why
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_response(Request(scope, receive), 413, _message(limit))
        await response(scope, receive, send)
