"""Her health questions and consent: what the clinic's gate needs, answered by her.

At home she is the operator of her own sessions, so she answers the clinic's screening
questions herself (first run, and again from settings); each time is a new version of her
intake, screened and flagged like any other, and she signs the consent by typing her name.
The gate's decision is then the one any session gets: guide mode shows its reasons plainly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from microamp.clinic.consent import consent_text
from microamp.clinic.intake import BOOLEAN_KEYS, DATE_OR_NULL_KEYS, ZONE_LIST_KEYS
from microamp.errors import InvalidValue, InvalidValues
from microamp.safety.limits import ZONES
from microamp.store.home import home_gate, home_health_answers, record_home_health
from microamp.store.home_models import HomeAccount
from microamp.web.errors import FieldError
from microamp.web.home import session
from microamp.web.home.session import AccountDep, DbDep, home_page, today_of
from microamp.web.pages.health import intake_errors
from microamp.web.pages.questions import QUESTIONS

__all__ = ["router"]

router = APIRouter()
SIGNATURE_LABEL = "Type your full name to sign"


def _page(
    request: Request, account: HomeAccount, *, status_code: int = 200, **extra: Any
) -> Response:
    return home_page(
        request, "health.html", account, status_code=status_code, title="Health questions",
        questions=QUESTIONS, booleans=BOOLEAN_KEYS, zone_keys=ZONE_LIST_KEYS,
        date_keys=DATE_OR_NULL_KEYS, zones=ZONES, today=today_of(request),
        consent=consent_text(), signature_label=SIGNATURE_LABEL, **extra,
    )  # fmt: skip


@router.get("/health")
def health(request: Request, db: DbDep, account: AccountDep) -> Response:
    """Her latest answers to change (or none yet), the consent text, and the gate's decision."""
    decision = home_gate(db, account, on=today_of(request))
    return _page(request, account, answers=home_health_answers(db, account), decision=decision)


@router.post("/health")
async def health_post(request: Request, db: DbDep, account: AccountDep) -> Response:
    form = await request.form()
    session.csrf_ok(request, str(form.get("csrf_token", "")))
    answers: dict[str, Any] = {}
    for key in BOOLEAN_KEYS:
        raw = form.get(key)
        answers[key] = {"yes": True, "no": False}.get(str(raw)) if raw is not None else None
    for key in ZONE_LIST_KEYS:
        answers[key] = [str(z) for z in form.getlist(key)]
    for key in DATE_OR_NULL_KEYS:
        answers[key] = str(form.get(key) or "").strip() or None
    typed = str(form.get("typed_signature", ""))[:200]
    try:
        # a savepoint: refused, nothing of it is kept, and the page can still read the store
        with db.begin_nested():
            record_home_health(
                db, account, answers=answers, typed_signature=typed, today=today_of(request)
            )
    except InvalidValue as exc:
        errors = _errors(exc, answers)
        return _page(request, account, status_code=422, answers=answers, typed=typed,
                     errors=errors, decision=home_gate(db, account, on=today_of(request)))  # fmt: skip
    db.commit()
    return RedirectResponse("/health?saved=1", status_code=303)


def _errors(exc: InvalidValue, answers: dict[str, object]) -> list[FieldError]:
    """The questions' errors as the clinic's form marks them, then the signature's."""
    found = getattr(exc, "errors", [exc])
    rest = [e for e in found if e.field != "typed_signature"]
    errors = (
        intake_errors(rest[0] if len(rest) == 1 else InvalidValues(rest), answers) if rest else []
    )
    errors += [
        FieldError("typed_signature", "typed_signature", f"{SIGNATURE_LABEL}: {e.rule}")
        for e in found
        if e.field == "typed_signature"
    ]
    return errors
