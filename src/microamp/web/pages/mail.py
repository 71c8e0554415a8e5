"""The owner's Mail page: the clinic's SMTP settings (the password is never shown back: an empty
field keeps it), a test message, and the outbox with the log of every attempt to send, its times
in the clinic's time zone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from microamp.clinic.booking import clinic_zone
from microamp.errors import InvalidValue
from microamp.store.book_setup import get_settings
from microamp.store.mail import (
    TLS_MODES,
    MailSettings,
    mail_log,
    mail_settings,
    outbox_counts,
    queue_mail,
    recent_outbox,
    save_mail_settings,
    smtp_password,
)
from microamp.store.mail_secret import PasswordUnreadable
from microamp.store.models import User
from microamp.web.deps import CsrfChecked, DbDep, PageUser
from microamp.web.errors import field_errors
from microamp.web.identity import security_event
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

_LABELS = {
    "host": "SMTP server",
    "port": "Port",
    "tls_mode": "Encryption",
    "username": "User name",
    "password": "Password",
    "from_address": "From address",
    "to": "Send a test message to",
}
_TARGETS = {"tls_mode": "tls_mode-starttls", "to": "test-to"}
_DONE = {
    "saved": "The mail settings are saved.",
    "queued": "The test message is queued: it is sent within a minute, see the log below.",
}


def _password_problem(request: Request, stored: MailSettings | None) -> str:
    """Why the stored password cannot be used ("" when it can, or there is none)."""
    if stored is None:
        return ""
    try:
        smtp_password(stored, request.app.state.mail_key)
    except PasswordUnreadable as exc:
        return str(exc)
    return ""


def _mail(request: Request, owner: User, db: Session, **extra: Any) -> Response:
    stored = mail_settings(db)
    typed = extra.pop("typed", None) or {
        "host": stored.host if stored else "",
        "port": str(stored.port) if stored else "587",
        "tls_mode": stored.tls_mode if stored else "starttls",
        "username": stored.username if stored else "",
        "from_address": stored.from_address if stored else "",
    }
    return page(
        request,
        "mail.html",
        owner,
        title="Mail",
        typed=typed,
        stored=stored,
        has_password=bool(stored and stored.password),
        password_problem=_password_problem(request, stored),
        tls_modes=TLS_MODES,
        counts=outbox_counts(db),
        outbox=recent_outbox(db, limit=20),
        log=mail_log(db, limit=50),
        # every time on the page in the clinic's zone, named in the column heads
        zone=clinic_zone(get_settings(db).time_zone),
        **extra,
    )


@router.get("/settings/mail")
def mail_page(request: Request, owner: PageUser, db: DbDep, done: str = "") -> Response:
    return _mail(request, owner, db, done=_DONE.get(done, ""))


def _port(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidValue("port", value, "must be a port number from 1 to 65535") from None


@router.post("/settings/mail")
def save_mail(
    request: Request,
    owner: PageUser,
    db: DbDep,
    host: Annotated[str, Form(max_length=253)] = "",
    port: Annotated[str, Form(max_length=10)] = "",
    tls_mode: Annotated[str, Form(max_length=10)] = "",
    username: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    forget_password: Annotated[bool, Form()] = False,
    from_address: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    kept = "" if forget_password else (password or None)
    try:
        save_mail_settings(db, host=host, port=_port(port), tls_mode=tls_mode, username=username,
                           password=kept, from_address=from_address, by=owner.email,
                           key=request.app.state.mail_key)  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        typed = {"host": host, "port": port, "tls_mode": tls_mode, "username": username,
                 "from_address": from_address}  # fmt: skip
        errors = field_errors(exc, _LABELS, _TARGETS)
        return _mail(request, owner, db, errors=errors, typed=typed, status_code=422)
    security_event(db, request, "mail.settings", actor=owner, resource="mail:settings",
                   host=host.strip(), tls_mode=tls_mode,
                   password="changed" if password or forget_password else "kept")  # fmt: skip
    db.commit()
    return RedirectResponse("/settings/mail?done=saved", status_code=303)


@router.post("/settings/mail/test")
def send_test(
    request: Request,
    owner: PageUser,
    db: DbDep,
    to: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    try:
        queue_mail(db, to=to, subject="microamp: test message", kind="test",
                   text="This message shows that the clinic's mail settings work.")  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        errors = field_errors(exc, _LABELS, _TARGETS)
        return _mail(request, owner, db, test_errors=errors, test_to=to, status_code=422)
    db.commit()
    return RedirectResponse("/settings/mail?done=queued", status_code=303)


__all__ = ["router"]
