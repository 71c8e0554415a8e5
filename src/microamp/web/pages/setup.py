"""First run: the one-time setup page that creates the clinic's owner and its settings.

Reached only through the link `microamp serve` prints on an empty database. Without a token
that works there is no page at all (404 for a token the clinic never issued, 410 for a spent or
expired one), so nobody but the holder of the link can claim the clinic.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from microamp.errors import InvalidValue
from microamp.store.base import utc_now
from microamp.store.clinic_setup import SetupLinkDead, claim_clinic, setup_token_state
from microamp.web.deps import CsrfChecked, DbDep
from microamp.web.errors import FieldError
from microamp.web.render import page
from microamp.web.security import MIN_PASSWORD_CHARS, check_password_rules, hash_password

router = APIRouter(dependencies=[CsrfChecked])

# The form's fields in the order the page shows them; the error summary follows this order.
FIELDS = ("clinic_name", "time_zone", "display_name", "email", "password", "password_again")
LABELS = {
    "clinic_name": "Clinic name",
    "time_zone": "Time zone",
    "display_name": "Your name",
    "email": "Your email",
    "password": "Password",
    "password_again": "Password again",
}
# issued tokens are 43 characters; anything far longer is not one
TokenPath = Annotated[str, Path(max_length=128)]
_DEAD = {"unknown": 404, "used": 410, "expired": 410}
_DEAD_TITLES = {404: "Not found", 410: "This setup link no longer works"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _dead(request: Request, exc: SetupLinkDead) -> Response:
    status = _DEAD.get(exc.state, 404)
    return page(
        request, "error.html", None, status_code=status, title=_DEAD_TITLES[status],
        message=_sentence(str(exc)),
    )  # fmt: skip


def _private(response: Response) -> Response:
    """The link is the secret: no copy in a cache, none in another site's Referer header."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _in_order(errors: dict[str, str]) -> list[FieldError]:
    """The form's errors in the order of its fields, each led by the field's label."""
    return [FieldError(name, name, f"{LABELS[name]}: {errors[name]}") for name in FIELDS
            if name in errors]  # fmt: skip


def _form(
    request: Request, token: str, *, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return _private(page(
        request, "setup.html", None, status_code=status, title="Set up the clinic",
        token=token, values=values, errors=_in_order(errors), labels=LABELS,
        time_zones=sorted(available_timezones()), min_password=MIN_PASSWORD_CHARS,
    ))  # fmt: skip


@router.get("/setup/{token}")
def setup_form(request: Request, db: DbDep, token: TokenPath) -> Response:
    state = setup_token_state(db, token, now=utc_now())
    if state != "valid":
        return _dead(request, SetupLinkDead(state))
    return _form(request, token, values={"time_zone": "UTC"}, errors={}, status=200)


def _password_problems(password: str, again: str, known: tuple[str, ...]) -> dict[str, str]:
    problem = check_password_rules(password, known=known)
    if problem:
        return {"password": f"The password {problem}."}
    if password != again:
        return {"password_again": "The two passwords differ: type the same password twice."}
    return {}


@router.post("/setup/{token}")
def setup(
    request: Request,
    db: DbDep,
    token: TokenPath,
    clinic_name: Annotated[str, Form(max_length=400)] = "",
    time_zone: Annotated[str, Form(max_length=100)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    values = {"clinic_name": clinic_name, "time_zone": time_zone,
              "display_name": display_name, "email": email}  # fmt: skip
    errors = _password_problems(password, password_again, (email, display_name, clinic_name))
    if errors:  # checked before hashing: a refused form costs no argon2 round
        return _form(request, token, values=values, errors=errors, status=422)
    try:
        claim_clinic(
            db, token, now=utc_now(), email=email, display_name=display_name,
            password_hash=hash_password(password), clinic_name=clinic_name, time_zone=time_zone,
        )  # fmt: skip
        db.commit()
    except SetupLinkDead as exc:
        db.rollback()
        return _dead(request, exc)
    except InvalidValue as exc:
        db.rollback()
        problems = {e.field: _sentence(e.rule) for e in getattr(exc, "errors", [exc])}
        return _form(request, token, values=values, errors=problems, status=422)
    return page(request, "setup.html", None, title="The clinic is set up", done=True,
                clinic_name=" ".join(clinic_name.split()), email=email.strip())  # fmt: skip
