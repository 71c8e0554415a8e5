"""Screening: intake answers in, outcome and reasons out; stored per client; the gate; the
client's safety history and lifting a safety flag (practitioners and owners only)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from microamp.clinic.dates import not_in_future
from microamp.clinic.screening import ScreeningResult, screen
from microamp.errors import NotFound
from microamp.store.crud import (
    gate_client,
    get_client,
    latest_screening,
    record_intake,
    screening_from_form,
)
from microamp.store.flags import lift_flags
from microamp.store.history import client_history
from microamp.web.api.models import (
    FlagPublic,
    GatePublic,
    HistoryPublic,
    LiftRequest,
    ScreeningPublic,
    ScreeningRequest,
)
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit
from microamp.web.errors import field_prefix

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
router = APIRouter(tags=["screening"])


def _public(result: ScreeningResult) -> ScreeningPublic:
    data = result.to_dict()
    return ScreeningPublic(**{k: data[k] for k in ScreeningPublic.model_fields})


@router.post(
    "/screening",
    responses=invalid(
        "An answer is missing or not a valid value (named under `answers`), or `on` is after today"
    ),
)
def preview(_user: ApiUser, body: ScreeningRequest) -> ScreeningPublic:
    """Screen answers without keeping them (what `microamp screen` prints)."""
    today = date.today()
    day = not_in_future("on", body.on or today, today=today)
    with field_prefix("answers"):
        return _public(screen(body.answers, on=day))


@router.get("/clients/{client_id}/screening", responses=_ID)
def latest(user: ApiUser, db: DbDep, client_id: RowId) -> ScreeningPublic:
    get_client(db, client_id=client_id)
    result = latest_screening(db, client_id=client_id)
    if result is None:
        raise NotFound(f"client {client_id} has no screening on file")
    audit(db, user, "read", f"client:{client_id}/screening", client_id=client_id)
    return _public(result)


@router.post(
    "/clients/{client_id}/screening",
    status_code=201,
    responses=invalid(
        "An answer is missing or not a valid value (named under `answers`), or `on` is after today; nothing is kept"
    ),
)
def record(user: ApiUser, db: DbDep, client_id: RowId, body: ScreeningRequest) -> ScreeningPublic:
    """Keep the client's intake answers (a new version) and the screening they produce; a
    screening dated after today is refused (422 naming ``on``)."""
    today = date.today()
    day = not_in_future("on", body.on or today, today=today)
    with field_prefix("answers"):
        form = record_intake(
            db, client_id=client_id, answers=body.answers, on=day, today=today,
            recorded_by_id=user.id,
        )  # fmt: skip
    result = screening_from_form(form)
    audit(db, user, "write", f"client:{client_id}/intake", client_id=client_id,
          intake_id=form.id, outcome=form.outcome)  # fmt: skip
    return _public(result)


@router.get(
    "/clients/{client_id}/gate",
    responses=invalid("`client_id` is out of range, or `on` is not a date"),
)
def client_gate(user: ApiUser, db: DbDep, client_id: RowId, on: date | None = None) -> GatePublic:
    """Whether a session may start for the client on ``on`` (today), and why not."""
    decision = gate_client(db, client_id=client_id, on=on or date.today())
    audit(db, user, "read", f"client:{client_id}/gate", client_id=client_id)
    return GatePublic(**decision.to_dict())


@router.get("/clients/{client_id}/history", responses=_ID)
def history(user: ApiUser, db: DbDep, client_id: RowId) -> HistoryPublic:
    """Every screening with its changes, every flag raised and lifted, consents, clearances."""
    document = client_history(db, client_id=client_id)
    audit(db, user, "read", f"client:{client_id}/history", client_id=client_id)
    return HistoryPublic(**document)


@router.post(
    "/clients/{client_id}/flags/lift",
    responses=invalid(
        "No flag of `rule_id` is up on the client, or `reason` is empty or over 2,000 characters"
    ),
)
def lift(user: ApiUser, db: DbDep, client_id: RowId, body: LiftRequest) -> list[FlagPublic]:
    """Lift the client's flag of ``rule_id``: a recorded decision with a reason (422 naming
    ``rule`` when no such flag is up)."""
    get_client(db, client_id=client_id)
    lifted = lift_flags(db, client_id=client_id, rule_id=body.rule_id, reason=body.reason,
                        by=user, actor=user.email)  # fmt: skip
    for flag in lifted:
        audit(db, user, "write", f"client:{client_id}/safety-flag", client_id=client_id,
              flag_id=flag.id, rule=flag.rule_id, change="lifted")  # fmt: skip
    return [FlagPublic.of(flag) for flag in lifted]
