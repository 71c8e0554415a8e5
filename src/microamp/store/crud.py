"""Plain functions over a session: people, intake and screening, consent, clearance, the gate.

Every function takes the ORM session first and the rest by keyword; the caller commits
(``with store.transaction() as session: ...``). Bad input is `InvalidValue` naming the field;
a missing record is `NotFound`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.consent import check_signature, consent_text
from microamp.clinic.dates import not_in_future
from microamp.clinic.gate import GateDecision, gate
from microamp.clinic.plans import WEEKDAYS
from microamp.clinic.rules import Outcome, RuleSet
from microamp.clinic.screening import Reason, ScreeningResult, screen
from microamp.errors import InvalidValue, NotFound
from microamp.store.base import Base, utc_now
from microamp.store.flags import raise_flags, unlifted_flags
from microamp.store.models import ROLES, Clearance, Client, Consent, IntakeForm, User

__all__ = [
    "clean_text",
    "create_client",
    "create_user",
    "gate_client",
    "get_client",
    "get_or_404",
    "get_user",
    "latest_form",
    "latest_screening",
    "list_clients",
    "parse_fitzpatrick",
    "record_clearance",
    "record_consent",
    "record_intake",
    "save_screening",
    "screening_from_form",
]

T = TypeVar("T", bound=Base)
FITZPATRICK = ("I", "II", "III", "IV", "V", "VI")


def get_or_404(session: Session, model: type[T], record_id: int) -> T:
    """The row of ``model`` with ``record_id``, or `NotFound`."""
    found = session.get(model, record_id)
    if found is None:
        raise NotFound(f"no {model.__tablename__.removesuffix('s').replace('_', ' ')} {record_id}")
    return found


def clean_text(field: str, value: str, *, max_length: int = 200) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > max_length:
        raise InvalidValue(field, value, f"must be 1-{max_length} characters")
    return cleaned


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if "@" not in value.strip("@") or " " in value or len(value) > 254:
        raise InvalidValue("email", value, "must be an email address")
    return value


# -- users -------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: str = "practitioner",
    password_hash: str | None = None,
) -> User:
    """A clinic user; ``password_hash`` is an argon2id hash made by the web app."""
    if role not in ROLES:
        raise InvalidValue("role", role, f"must be one of {', '.join(ROLES)}")
    address = _email(email)
    if address is None:
        raise InvalidValue("email", email, "a user needs an email address")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise InvalidValue("email", email, "another user has this address")
    user = User(
        email=address,
        display_name=clean_text("display_name", display_name),
        role=role,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, user_id: int) -> User:
    return get_or_404(session, User, user_id)


# -- clients -----------------------------------------------------------------------------------


def parse_fitzpatrick(value: int | str | None) -> int | None:
    """Fitzpatrick skin type as 1-6, from ``3``, ``"3"`` or ``"III"``."""
    if value is None or value == "":
        return None
    text = str(value).strip().upper()
    if text in FITZPATRICK:
        return FITZPATRICK.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 6:
        return int(text)
    raise InvalidValue("skin_type", value, "Fitzpatrick type I-VI (or 1-6)")


def create_client(
    session: Session,
    *,
    full_name: str,
    date_of_birth: date,
    email: str | None = None,
    phone: str | None = None,
    fitzpatrick_type: int | str | None = None,
    concerns: Iterable[str] = (),
    preferred_weekdays: Iterable[str] = (),
    notes: str = "",
    today: date | None = None,
) -> Client:
    """A new client record."""
    if date_of_birth > (today or utc_now().date()):
        raise InvalidValue("date_of_birth", date_of_birth.isoformat(), "is in the future")
    weekdays = [d.strip().lower()[:3] for d in preferred_weekdays]
    for day in weekdays:
        if day not in WEEKDAYS:
            raise InvalidValue("preferred_weekdays", day, f"one of {', '.join(WEEKDAYS)}")
    client = Client(
        full_name=clean_text("full_name", full_name),
        date_of_birth=date_of_birth,
        email=_email(email),
        phone=phone.strip() if phone and phone.strip() else None,
        fitzpatrick_type=parse_fitzpatrick(fitzpatrick_type),
        concerns=[clean_text("concerns", c, max_length=100) for c in concerns],
        preferred_weekdays=weekdays,
        notes=notes,
    )
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, *, client_id: int) -> Client:
    return get_or_404(session, Client, client_id)


def list_clients(
    session: Session, *, search: str | None = None, limit: int = 100, offset: int = 0
) -> list[Client]:
    """Clients by name, archived ones aside; ``search`` matches any part of the name, case
    aside (`microamp.store.client_records.search_clients` searches more)."""
    query = (
        select(Client)
        .where(Client.archived_at.is_(None))
        .order_by(Client.full_name, Client.id)
        .limit(limit)
        .offset(offset)
    )
    if search:
        query = query.where(Client.full_name.ilike(f"%{search.strip()}%"))
    return list(session.scalars(query))


# -- intake and screening ----------------------------------------------------------------------


def record_intake(
    session: Session,
    *,
    client_id: int,
    answers: Mapping[str, Any],
    on: date,
    today: date,
    recorded_by_id: int | None = None,
    rules: RuleSet | None = None,
    procedure_wait_days: int | None = None,
) -> IntakeForm:
    """Screen ``answers`` on day ``on`` and keep the form with its outcome and reasons.

    ``on`` after ``today`` (the clinic's day) is refused, as is any answer dated after ``on``.
    """
    not_in_future("on", on, today=today)
    result = screen(answers, on=on, rules=rules, procedure_wait_days=procedure_wait_days)
    return save_screening(
        session, client_id=client_id, result=result, today=today, recorded_by_id=recorded_by_id
    )


def save_screening(
    session: Session,
    *,
    client_id: int,
    result: ScreeningResult,
    today: date,
    recorded_by_id: int | None = None,
) -> IntakeForm:
    """Keep a screening already made (its answers, outcome, reasons, rules version) as a new
    version of the client's intake, and raise a safety flag for every contraindication or
    clearance requirement it found. A screening dated after ``today`` is refused."""
    not_in_future("on", result.screened_on, today=today)
    client = get_client(session, client_id=client_id)
    stated = result.answers.get("date_of_birth")
    if stated != client.date_of_birth.isoformat():
        raise InvalidValue(
            "date_of_birth", stated, f"does not match the client's record ({client.date_of_birth})"
        )
    form = IntakeForm(
        client_id=client.id,
        answers=dict(result.answers),
        rules_version=result.rules_version,
        outcome=str(result.outcome),
        reasons=[reason.to_dict() for reason in result.reasons],
        avoid_zones=list(result.avoid_zones),
        deferred_until=result.deferred_until,
        screened_on=result.screened_on,
        recorded_by_id=recorded_by_id,
    )
    session.add(form)
    session.flush()
    raise_flags(
        session,
        client_id=client.id,
        intake_form_id=form.id,
        reasons=result.reasons,
        raised_on=result.screened_on,
    )
    return form


def screening_from_form(form: IntakeForm) -> ScreeningResult:
    """The screening result a stored intake form holds (as decided under its rules version)."""
    reasons = tuple(
        Reason(
            rule_id=r["rule_id"],
            outcome=Outcome(r["outcome"]),
            message=r["message"],
            answers=r.get("answers", {}),
            source=r.get("source", ""),
            deferred_until=date.fromisoformat(r["deferred_until"])
            if r.get("deferred_until")
            else None,
            avoid_zones=tuple(r.get("avoid_zones", ())),
        )
        for r in form.reasons
    )
    return ScreeningResult(
        outcome=Outcome(form.outcome),
        reasons=reasons,
        avoid_zones=tuple(form.avoid_zones),
        deferred_until=form.deferred_until,
        rules_version=form.rules_version,
        screened_on=form.screened_on,
        procedure_wait_days=None,
        answers=form.answers,
    )


def latest_form(session: Session, *, client_id: int, on: date | None = None) -> IntakeForm | None:
    """The client's most recently recorded intake form (dated ``on`` or before, when given).

    Recorded, not dated: a form dated ahead must never outrank the ones recorded after it.
    """
    query = select(IntakeForm).where(IntakeForm.client_id == client_id)
    if on is not None:
        query = query.where(IntakeForm.screened_on <= on)
    order = (IntakeForm.recorded_at.desc(), IntakeForm.id.desc())
    return session.scalars(query.order_by(*order).limit(1)).first()


def latest_screening(
    session: Session, *, client_id: int, on: date | None = None
) -> ScreeningResult | None:
    """The client's most recent screening, or None when no intake form is on file."""
    form = latest_form(session, client_id=client_id, on=on)
    return None if form is None else screening_from_form(form)


# -- consent and clearance ---------------------------------------------------------------------


def record_consent(
    session: Session,
    *,
    client_id: int,
    typed_signature: str,
    text_version: str | None = None,
    signed_at: datetime | None = None,
    witnessed_by_id: int | None = None,
    now: datetime | None = None,
) -> Consent:
    """A consent to ``text_version`` (the current text by default), signed by typing the name.

    ``signed_at`` (default: ``now``) after ``now`` (default: the store's clock) is refused.
    """
    now = now or utc_now()
    if signed_at is not None and signed_at > now:
        raise InvalidValue("signed_at", signed_at.isoformat(), "is in the future")
    client = get_client(session, client_id=client_id)
    version = consent_text(text_version).version
    consent = Consent(
        client_id=client.id,
        text_version=version,
        typed_signature=check_signature(typed_signature, full_name=client.full_name),
        signed_at=signed_at or now,
        witnessed_by_id=witnessed_by_id,
    )
    session.add(consent)
    session.flush()
    return consent


def record_clearance(
    session: Session,
    *,
    client_id: int,
    physician_name: str,
    issued_on: date,
    today: date,
    rule_ids: Iterable[str] = (),
    valid_until: date | None = None,
    document_ref: str = "",
    recorded_by_id: int | None = None,
) -> Clearance:
    """A physician's clearance for the screening rules ``rule_ids`` (empty: all of them).

    Issued after ``today`` is refused; ``valid_until`` may of course lie ahead.
    """
    not_in_future("issued_on", issued_on, today=today)
    client = get_client(session, client_id=client_id)
    if valid_until is not None and valid_until < issued_on:
        raise InvalidValue("valid_until", valid_until.isoformat(), "is before the issue date")
    clearance = Clearance(
        client_id=client.id,
        physician_name=clean_text("physician_name", physician_name),
        rule_ids=sorted(set(rule_ids)),
        issued_on=issued_on,
        valid_until=valid_until,
        document_ref=document_ref,
        recorded_by_id=recorded_by_id,
    )
    session.add(clearance)
    session.flush()
    return clearance


def gate_client(session: Session, *, client_id: int, on: date) -> GateDecision:
    """Whether a session may start for the client on day ``on``, from what is on file: the
    latest screening recorded (dated ``on`` or before) and every unlifted safety flag."""
    client = get_client(session, client_id=client_id)
    return gate(
        latest_screening(session, client_id=client.id, on=on),
        consents=client.consents,
        clearances=client.clearances,
        flags=unlifted_flags(session, client_id=client.id),
        on=on,
    )
