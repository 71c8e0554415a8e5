"""Forms before the visit: staff make a client's link (sent by email through the outbox, or
copied), withdraw it, and a practitioner reviews what came back; the client, with no account,
fills the intake and signs the consent on the link (`/previsit/{token}`).

The client's page asks the same questions as the staff intake form and signs with a drawn
signature (a canvas, `static/signature.js`) or, for whoever cannot draw or see it, her typed
full name with a box ticked. Nothing she sends is screened until the review.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from microamp.clinic.consent import consent_text
from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, ZONE_LIST_KEYS
from microamp.errors import InvalidValue, InvalidValues, NotFound
from microamp.safety.limits import ZONES
from microamp.store.access import append_audit
from microamp.store.crud import get_client
from microamp.store.mail import queue_mail
from microamp.store.models import Client, User
from microamp.store.previsit import (
    LINK_DAYS,
    LinkRefused,
    PrevisitLink,
    PrevisitSubmission,
    create_link,
    link_token,
    open_link,
    review_submission,
    revoke_link,
)
from microamp.web.deps import CsrfChecked, DbDep, PageUser, RowId, audit
from microamp.web.errors import FieldError, field_errors
from microamp.web.pages.questions import QUESTIONS
from microamp.web.render import page

router = APIRouter(dependencies=[CsrfChecked])

_SIGNATURE_PREFIX = "data:image/png;base64,"
_LABELS = {
    "date_of_birth": "Date of birth",
    "typed_signature": "Your full name",
    "signature": "Signature",
    **QUESTIONS,
}
_TARGETS = {
    **{key: f"{key}-yes" for key in BOOLEAN_KEYS},
    **{key: f"q-{key}" for key in ZONE_LIST_KEYS},
    "signature": "signature-pad",
}


# what the client page says after a change: fixed words, never text from the address
_DONE = {
    "made": "A new link is ready to copy below.",
    "sent": "The link is queued to the client's email address.",
    "withdrawn": "The link is withdrawn: it no longer opens.",
    "reviewed": "The client's answers are screened and kept as a new intake version.",
}


def link_key(request: Request) -> bytes:
    key: bytes = request.app.state.link_key
    return key


def link_url(request: Request, link: PrevisitLink) -> str:
    """The address the client opens."""
    return f"{str(request.base_url).rstrip('/')}/previsit/{link_token(link_key(request), link)}"


def _back(client_id: int, done: str = "") -> RedirectResponse:
    query = f"?previsit={done}" if done else ""
    return RedirectResponse(f"/clients/{client_id}{query}#previsit", status_code=303)


@router.post("/clients/{client_id}/previsit")
def make_link(
    request: Request,
    user: PageUser,
    db: DbDep,
    client_id: RowId,
    send: Annotated[str, Form(max_length=10)] = "copy",
) -> Response:
    """A new link; with ``send=email``, queued to the client's address with the link in it."""
    client = get_client(db, client_id=client_id)
    if send == "email" and not client.email:
        raise InvalidValue("send", send, "the client has no email address: copy the link instead")
    link = create_link(db, client_id=client.id, created_by_id=user.id, days=LINK_DAYS,
                       sent_to=client.email if send == "email" else None)  # fmt: skip
    if send == "email" and client.email:
        queue_mail(db, to=client.email, kind="previsit", key=f"previsit:{link.id}",
                   subject="Your form before your visit",
                   text=_invitation(client, link_url(request, link)))  # fmt: skip
    audit(db, user, "write", f"client:{client.id}/previsit-link", client_id=client.id,
          link_id=link.id, sent="email" if link.sent_to else "copied")  # fmt: skip
    return _back(client.id, "sent" if link.sent_to else "made")


def _invitation(client: Client, url: str) -> str:
    return (
        f"Hello {client.full_name},\n\n"
        "Before your visit, please answer the health questions and sign the consent on this "
        f"page (it works on a phone, no account needed):\n\n{url}\n\n"
        f"The link is for you alone and works for {LINK_DAYS} days.\n"
    )


@router.post("/clients/{client_id}/previsit/{link_id}/revoke")
def withdraw_link(
    request: Request, user: PageUser, db: DbDep, client_id: RowId, link_id: RowId
) -> Response:
    revoke_link(db, client_id=client_id, link_id=link_id)
    audit(db, user, "write", f"client:{client_id}/previsit-link", client_id=client_id,
          link_id=link_id, revoked=True)  # fmt: skip
    return _back(client_id, "withdrawn")


@router.post("/clients/{client_id}/previsit-forms/{submission_id}/review")
def review(
    request: Request, user: PageUser, db: DbDep, client_id: RowId, submission_id: RowId
) -> Response:
    today = date.today()
    submission, form = review_submission(db, client_id=client_id, submission_id=submission_id,
                                         reviewer_id=user.id, today=today)  # fmt: skip
    audit(db, user, "write", f"client:{client_id}/intake", client_id=client_id,
          intake_id=form.id, outcome=form.outcome, previsit_form=submission.id)  # fmt: skip
    return RedirectResponse(f"/clients/{client_id}?previsit=reviewed#screening", status_code=303)


@router.get("/clients/{client_id}/previsit-forms/{submission_id}.pdf")
def signed_pdf(user: PageUser, db: DbDep, client_id: RowId, submission_id: RowId) -> Response:
    submission = db.get(PrevisitSubmission, submission_id)
    if submission is None or submission.client_id != client_id:
        raise NotFound(f"no pre-visit form {submission_id} for client {client_id}")
    audit(db, user, "read", f"client:{client_id}/previsit-form", client_id=client_id,
          previsit_form=submission.id)  # fmt: skip
    name = f"previsit-form-{client_id}-{submission.id}.pdf"
    return Response(submission.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# the client's own page: no account, the link is the key


def _client_form(request: Request, link: PrevisitLink, db: Session, **extra: Any) -> Response:
    client = db.get(Client, link.client_id)
    if client is None:
        raise NotFound(f"no client {link.client_id}")
    extra.setdefault("answers", {})
    extra.setdefault("typed", {})
    return page(
        request,
        "previsit.html",
        None,
        title="Before your visit",
        action=request.url.path,
        first_name=client.full_name.split()[0],
        expires_at=link.expires_at,
        consent=consent_text(),
        questions=QUESTIONS,
        booleans=BOOLEAN_KEYS,
        zone_keys=ZONE_LIST_KEYS,
        date_keys=DATE_OR_NULL_KEYS,
        zones=ZONES,
        today=date.today(),
        **extra,
    )


def _refused(request: Request, refusal: LinkRefused) -> Response:
    return page(request, "previsit_done.html", None, title="Before your visit",
                heading="This link cannot be used", message=refusal.reason, status_code=404)  # fmt: skip


@router.get("/previsit/{token}")
def client_form(request: Request, db: DbDep, token: str) -> Response:
    try:
        link = open_link(db, link_key(request), token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    return _client_form(request, link, db)


def _answers(form: FormData) -> dict[str, object]:
    answers: dict[str, object] = {"date_of_birth": str(form.get("date_of_birth", ""))}
    for key in BOOLEAN_KEYS:
        raw = form.get(key)
        answers[key] = {"yes": True, "no": False}.get(str(raw)) if raw is not None else None
    for key in ZONE_LIST_KEYS:
        answers[key] = [str(z) for z in form.getlist(key)]
    for key in DATE_OR_NULL_KEYS:
        answers[key] = str(form.get(key) or "").strip() or None
    return answers


def _drawn(raw: str) -> bytes | None:
    if not raw:
        return None
    if not raw.startswith(_SIGNATURE_PREFIX):
        raise InvalidValue("signature", raw[:30], "must be a drawn signature (a PNG image)")
    try:
        return base64.b64decode(raw[len(_SIGNATURE_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(
            "signature", raw[:30], "must be a drawn signature (a PNG image)"
        ) from None


def _errors(exc: InvalidValue, answers: dict[str, object]) -> list[FieldError]:
    unanswered = [
        InvalidValue(key, None, "answer yes or no")
        for key in BOOLEAN_KEYS
        if answers.get(key) is None and key != exc.field
    ]
    given = [
        InvalidValue(e.field.split("[")[0], e.value, e.rule) for e in getattr(exc, "errors", [exc])
    ]
    return field_errors(InvalidValues([*given, *unanswered]), _LABELS, _TARGETS)


@router.post("/previsit/{token}")
async def client_submit(request: Request, db: DbDep, token: str) -> Response:
    from microamp.store.previsit import submit_previsit

    try:
        link = open_link(db, link_key(request), token)
    except LinkRefused as refusal:
        return _refused(request, refusal)
    form = await request.form()
    answers = _answers(form)
    typed = {
        "typed_signature": str(form.get("typed_signature", ""))[:200],
        "typed_instead": form.get("typed_instead") == "yes",
        "photo_consent": form.get("photo_consent") == "yes",
    }
    try:
        submission = submit_previsit(
            db, link, answers=answers, typed_name=str(typed["typed_signature"]),
            drawn_signature=_drawn(str(form.get("signature", ""))),
            typed_instead=bool(typed["typed_instead"]),
            consent_version=str(form.get("consent_version", "")),
            photo_consent=bool(typed["photo_consent"]), today=date.today(),
        )  # fmt: skip
    except InvalidValue as exc:
        db.rollback()
        link = open_link(db, link_key(request), token)
        return _client_form(request, link, db, answers=answers, typed=typed,
                            errors=_errors(exc, answers), status_code=422)  # fmt: skip
    append_audit(db, actor_id=None, actor=f"client (pre-visit link {link.id})", action="write",
                 resource=f"client:{link.client_id}/previsit-form", client_id=link.client_id,
                 detail={"previsit_form": submission.id, "signature": submission.signature_method,
                         "photo_consent": submission.photo_consent})  # fmt: skip
    db.commit()
    return page(request, "previsit_done.html", None, title="Before your visit",
                heading="Thank you", message="Your answers and your signature are with the clinic. "
                "Your practitioner goes through them with you before your treatment.")  # fmt: skip


def previsit_context(request: Request, db: Session, client: Client, user: User) -> dict[str, Any]:
    """What the client page shows of pre-visit forms: the links (with their addresses while
    they are good) to every role; what came back only to clinical roles."""
    from microamp.store.base import utc_now
    from microamp.store.previsit import links_of, submissions_of
    from microamp.web.roles import CLINICAL

    now = utc_now()
    links = [
        {
            "link": link,
            "good": link.revoked_at is None and link.submitted_at is None and link.expires_at > now,
            "url": link_url(request, link),
        }  # fmt: skip
        for link in links_of(db, client_id=client.id)[:10]
    ]
    done = _DONE.get(request.query_params.get("previsit", ""), "")
    context: dict[str, Any] = {"previsit_links": links, "previsit_done": done,
                               "questions": QUESTIONS}  # fmt: skip
    if user.role in CLINICAL:
        context["previsit_forms"] = submissions_of(db, client_id=client.id)[:10]
    return context


__all__ = ["link_url", "previsit_context", "router"]
