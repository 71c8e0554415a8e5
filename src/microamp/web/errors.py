"""Errors as responses: JSON under /api/v1 (422 naming the field, 401, 403, 404), pages
elsewhere (sign-in redirect, a plain error page), and a form's own errors (`field_errors`) for
the page that shows the form again: a summary at its top linking to each field in error, and
each field marked and described by its message (templates/form_errors.html)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import TimeoutError as PoolExhausted
from starlette.exceptions import HTTPException as StarletteHTTPException

from microamp.errors import Conflict, InvalidValue, InvalidValues, NotFound, SessionRefused
from microamp.station import ControlRefused, SessionEnded, StationUnavailable
from microamp.store.leases import DeviceBusy
from microamp.store.protocol_store import ProtocolConflict
from microamp.store.staff import LastOwner, TwoFactorRequired
from microamp.web.deps import SignInRequired, StepRequired, cookie_user
from microamp.web.lanes import store_for
from microamp.web.render import page

__all__ = [
    "FieldError",
    "RETRY_AFTER_S",
    "busy_response",
    "error_response",
    "field_errors",
    "field_prefix",
    "install",
    "invalid_detail",
]

_TITLES = {
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Check the form",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """A form field's problem: ``field`` is the name the form posts, ``target`` the id of the
    control the summary's link moves the focus to, ``message`` what to put right."""

    field: str
    target: str
    message: str


def field_errors(
    exc: InvalidValue,
    labels: Mapping[str, str] | None = None,
    targets: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """One `FieldError` per value in ``exc`` (every one of `InvalidValues`), each message led
    by the field's label; a field's control is the element of the same id unless ``targets``
    names another (the first radio button of a group, say). ``fields`` renames a field the
    domain names otherwise than the form does (``rule`` for the form's ``rule_id``)."""
    labels = labels or {}
    targets = targets or {}
    fields = fields or {}
    named = [fields.get(e.field, e.field) for e in getattr(exc, "errors", [exc])]
    return [
        FieldError(
            field,
            targets.get(field, field),
            f"{labels.get(field, field.replace('_', ' ').capitalize())}: {e.rule}",
        )
        for field, e in zip(named, getattr(exc, "errors", [exc]), strict=True)
    ]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def invalid_detail(exc: InvalidValue, where: str = "body") -> list[dict[str, Any]]:
    """FastAPI's 422 shape for a domain `InvalidValue` (every one of `InvalidValues`)."""
    errors = getattr(exc, "errors", [exc])
    return [
        {
            "loc": [where, *e.field.replace("[", ".").replace("]", "").split(".")],
            "msg": e.rule,
            "type": "invalid_value",
            "input": e.value
            if isinstance(e.value, str | int | float | bool | None)
            else str(e.value),
        }
        for e in errors
    ]


def _error_page(request: Request, status: int, message: str) -> Response:
    with store_for(request).session() as db:
        user = cookie_user(request, db)
        return page(
            request,
            "error.html",
            user,
            status_code=status,
            title=_TITLES.get(status, "Something went wrong"),
            message=message,
        )


def error_response(request: Request, status: int, message: str) -> Response:
    """An error as the request expects it: JSON under /api/, else the error page."""
    if _is_api(request):
        return JSONResponse({"detail": message}, status)
    return _error_page(request, status, message)


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = f"/signin?next={quote(exc.next_path, safe='/')}"
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _step(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StepRequired)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": exc.path})
    return RedirectResponse(exc.path, status_code=303)


async def _staff_conflict(request: Request, exc: Exception) -> Response:
    return error_response(request, 409, str(exc))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request) or request.headers.get("accept") == "text/event-stream":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    return _error_page(request, exc.status_code, str(exc.detail))


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        return JSONResponse({"detail": jsonable(exc.errors())}, 422)
    fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
    return _error_page(request, 422, f"These fields need a valid value: {fields}.")


def jsonable(errors: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidValue)
    if _is_api(request):
        return JSONResponse({"detail": invalid_detail(exc)}, 422)
    return _error_page(request, 422, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, 404)
    return _error_page(request, 404, str(exc))


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SessionRefused)
    if _is_api(request):
        return JSONResponse({"detail": "session refused", "reasons": exc.reasons}, 409)
    return _error_page(request, 409, "The session may not start: " + "; ".join(exc.reasons))


async def _busy(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DeviceBusy)
    busy = exc.busy
    if _is_api(request):
        body = {"detail": busy.message, "reasons": [busy.message], "device": busy.device,
                "session_id": busy.session_id}  # fmt: skip
        return JSONResponse(body, 409)
    return _error_page(request, 409, "The session may not start: " + busy.message)


async def _protocol_conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProtocolConflict)
    if _is_api(request):
        return JSONResponse({"detail": str(exc), "reasons": [str(exc)]}, 409)
    return _error_page(request, 409, str(exc))


async def _station(request: Request, exc: Exception) -> Response:
    """A station that refused a control (409) or that does not answer (503), in words."""
    status = 503 if isinstance(exc, StationUnavailable) else 409
    if _is_api(request):
        return JSONResponse({"detail": str(exc), "reasons": [str(exc)]}, status)
    return _error_page(request, status, str(exc))


async def _booking_conflict(request: Request, exc: Exception) -> Response:
    """A change refused (a booking the book refuses, a step already done, two clients whose
    visits overlap): the API names its kind and reason; a page says what was refused and why."""
    assert isinstance(exc, Conflict)
    if _is_api(request):
        body = {"detail": exc.reason, "kind": exc.kind, "reasons": [exc.reason]}
        return JSONResponse(body, 409)
    return _error_page(request, 409, f"{exc.refused}: {exc.reason}")


# A request that found every store connection taken is answered at once, to be sent again
# after this long (the console presses a Stop again by itself; see console.js `control`).
RETRY_AFTER_S = 1
_BUSY = "The server is busy: every connection to the records is taken. Try again in a moment."


def busy_response(path: str) -> Response:
    """503 with Retry-After, made without the store (it has no connection to spare): JSON
    under /api/, else a short page."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if path.startswith("/api/"):
        return JSONResponse({"detail": _BUSY}, 503, headers=headers)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Busy</title>'
        f"</head><body><main><h1>Busy</h1><p>{_BUSY}</p></main></body></html>"
    )
    return HTMLResponse(body, 503, headers=headers)


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    return busy_response(request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PoolExhausted, _pool_exhausted)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(StepRequired, _step)
    app.add_exception_handler(LastOwner, _staff_conflict)
    app.add_exception_handler(TwoFactorRequired, _staff_conflict)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InvalidValue, _invalid)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _booking_conflict)
    app.add_exception_handler(SessionRefused, _refused)
    app.add_exception_handler(DeviceBusy, _busy)
    app.add_exception_handler(ProtocolConflict, _protocol_conflict)
    for station_error in (StationUnavailable, ControlRefused, SessionEnded):
        app.add_exception_handler(station_error, _station)


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Name bad input by its place in the request body: ``answers.pregnant``, not ``pregnant``."""
    try:
        yield
    except InvalidValue as exc:
        errors = getattr(exc, "errors", [exc])
        moved = [InvalidValue(f"{prefix}.{e.field}", e.value, e.rule) for e in errors]
        raise (moved[0] if len(moved) == 1 else InvalidValues(moved)) from None
