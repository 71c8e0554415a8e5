"""A visit's manual steps over JSON: the checklist of the whole facial service, and its timer
controls. Times are ISO 8601 UTC; the microcurrent step is the visit's session record (its
state is the record's, and it is not controlled here). A control its state does not allow, or
a step changed meanwhile, is a 409 naming why."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from microamp.store.book import get_appointment
from microamp.store.visit_steps import MAX_PRODUCTS_CHARS, StepView, act_on_step, step_views
from microamp.web.api.responses import conflict, invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["visit steps"])


class VisitStepPublic(BaseModel):
    number: int = Field(description="1 first, in the service's order")
    name: str
    kind: str
    planned_min: int
    status: str = Field(description="pending, running, paused, done or skipped; for the "
                        "microcurrent step, pending or the session record's status")  # fmt: skip
    started_at: datetime | None
    ended_at: datetime | None
    taken_s: float = Field(description="time taken so far (only while running, for a manual step)")
    products: str
    done_by: str | None
    record_id: int | None
    skin_analysis_id: int | None


class StepControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["start", "pause", "done", "skip", "reopen", "products"]
    products: str | None = Field(None, max_length=MAX_PRODUCTS_CHARS)


def _public(view: StepView) -> VisitStepPublic:
    return VisitStepPublic(
        number=view.position + 1, name=view.name, kind=view.kind, planned_min=view.planned_min,
        status=view.status, started_at=view.started_at, ended_at=view.ended_at,
        taken_s=round(view.taken_s, 1), products=view.products, done_by=view.done_by or None,
        record_id=view.record_id, skin_analysis_id=view.skin_analysis_id,
    )  # fmt: skip


@router.get("/appointments/{appointment_id}/steps",
            responses=invalid("`appointment_id` is out of range"))  # fmt: skip
def steps(user: ApiUser, db: DbDep, appointment_id: RowId) -> list[VisitStepPublic]:
    """The visit's checklist (empty for a service with no manual steps)."""
    visit = get_appointment(db, appointment_id=appointment_id)
    out = [_public(v) for v in step_views(db, appointment_id=visit.id)]
    audit(db, user, "read", f"client:{visit.client_id}/visit:{visit.id}/steps",
          client_id=visit.client_id)  # fmt: skip
    return out


@router.post(
    "/appointments/{appointment_id}/steps/{number}",
    responses=invalid("`number` is not a step of the visit, or `products` is too long")
    | conflict("The step's state does not allow the action, it changed meanwhile, it is the "
               "microcurrent step, or the visit was cancelled or missed"),
)  # fmt: skip
def control(
    user: ApiUser, db: DbDep, appointment_id: RowId, number: RowId, body: StepControl
) -> VisitStepPublic:
    """Start, pause, finish (``done``) or ``skip`` step ``number``, ``reopen`` one done or
    skipped by mistake, or only save its ``products``; finishing or skipping names the token's
    user as who did it."""
    visit = get_appointment(db, appointment_id=appointment_id)
    step_views(db, appointment_id=visit.id)  # opened (copied from the service) if not yet
    act_on_step(db, appointment_id=visit.id, position=number - 1, action=body.action,
                products=body.products, operator_id=user.id, operator=user.display_name)  # fmt: skip
    view = step_views(db, appointment_id=visit.id)[number - 1]
    audit(db, user, "write", f"client:{visit.client_id}/visit:{visit.id}/steps",
          client_id=visit.client_id, step=view.name, control=body.action)  # fmt: skip
    return _public(view)
