"""Screening: intake answers in, outcome and reasons out; stored per client; the gate."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from microamp.clinic.screening import ScreeningResult, screen
from microamp.errors import NotFound
from microamp.store.crud import (
    gate_client,
    get_client,
    latest_screening,
    record_intake,
    screening_from_form,
)
from microamp.web.api.models import GatePublic, ScreeningPublic, ScreeningRequest
from microamp.web.deps import ApiUser, DbDep, RowId, audit
from microamp.web.errors import field_prefix

router = APIRouter(tags=["screening"])


def _public(result: ScreeningResult) -> ScreeningPublic:
    data = result.to_dict()
    return ScreeningPublic(**{k: data[k] for k in ScreeningPublic.model_fields})


@router.post("/screening")
def preview(_user: ApiUser, body: ScreeningRequest) -> ScreeningPublic:
    """Screen answers without keeping them (what `microamp screen` prints)."""
    with field_prefix("answers"):
        return _public(screen(body.answers, on=body.on or date.today()))


@router.get("/clients/{client_id}/screening")
def latest(user: ApiUser, db: DbDep, client_id: RowId) -> ScreeningPublic:
    get_client(db, client_id=client_id)
    result = latest_screening(db, client_id=client_id)
    if result is None:
        raise NotFound(f"client {client_id} has no screening on file")
    audit(db, user, "read", f"client:{client_id}/screening", client_id=client_id)
    return _public(result)


@router.post("/clients/{client_id}/screening", status_code=201)
def record(user: ApiUser, db: DbDep, client_id: RowId, body: ScreeningRequest) -> ScreeningPublic:
    """Keep the client's intake answers and the screening they produce."""
    with field_prefix("answers"):
        form = record_intake(
            db,
            client_id=client_id,
            answers=body.answers,
            on=body.on or date.today(),
            recorded_by_id=user.id,
        )
    result = screening_from_form(form)
    audit(db, user, "write", f"client:{client_id}/intake", client_id=client_id,
          intake_id=form.id, outcome=form.outcome)  # fmt: skip
    return _public(result)


@router.get("/clients/{client_id}/gate")
def client_gate(user: ApiUser, db: DbDep, client_id: RowId, on: date | None = None) -> GatePublic:
    """Whether a session may start for the client on ``on`` (today), and why not."""
    decision = gate_client(db, client_id=client_id, on=on or date.today())
    audit(db, user, "read", f"client:{client_id}/gate", client_id=client_id)
    return GatePublic(**decision.to_dict())
