"""The whole facial service at a visit: the service's manual steps as a checklist with a timer
per step, the products used and who did each, kept with the visit and so with its record.

Every state lives in the store (`VisitStep`), so a reload or another web worker sees the same
timers. A change is compare-and-set on the state it was read in: two operators pressing at
once get one change and one `Conflict`, never a timer counted twice. The microcurrent step is
the device session: its state and times are read from the visit's session record. The caller
audits and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microamp.errors import Conflict, InvalidValue
from microamp.store.base import utc_now
from microamp.store.book import get_appointment
from microamp.store.book_models import Service
from microamp.store.client_models import SkinAnalysis
from microamp.store.models import Appointment, User
from microamp.store.session_models import TreatmentSession
from microamp.store.visit_models import VisitStep

__all__ = [
    "ACTIONS",
    "MAX_PRODUCTS_CHARS",
    "StepView",
    "act_on_step",
    "link_skin_analysis",
    "open_visit_steps",
    "record_step_views",
    "step_views",
    "visit_steps",
]

ACTIONS = ("start", "pause", "done", "skip", "reopen", "products")
MAX_PRODUCTS_CHARS = 500
# the states each timer action may leave; "products" changes no state
_FROM = {
    "start": ("pending", "paused"),
    "pause": ("running",),
    "done": ("pending", "running", "paused"),
    "skip": ("pending", "running", "paused"),
    # a step ticked by mistake: back to paused with its time kept (pending if never started)
    "reopen": ("done", "skipped"),
}
_CLOSED_VISITS = ("cancelled", "no_show")
_MICROCURRENT = "microcurrent"
# what a refused step control says it refused, on a page
STEP_REFUSED = "This step cannot change"


def visit_steps(session: Session, *, appointment_id: int) -> list[VisitStep]:
    """The visit's steps in order (none until its checklist was opened)."""
    return list(
        session.scalars(
            select(VisitStep)
            .where(VisitStep.appointment_id == appointment_id)
            .order_by(VisitStep.position)
        )
    )


def _planned(service: Service | None) -> list[dict[str, Any]]:
    """The service's steps, with the device session in them: a service whose manual steps
    name no microcurrent step has it last. No manual steps: no checklist."""
    steps = list(service.steps) if service is not None else []
    if not steps:
        return []
    if not any(s["kind"] == _MICROCURRENT for s in steps):
        steps.append({"name": "Microcurrent", "minutes": 0, "kind": _MICROCURRENT})
    return steps


def open_visit_steps(session: Session, *, appointment_id: int) -> list[VisitStep]:
    """The visit's checklist: its steps, copied from the service the first time (so a service
    changed later leaves this visit's steps as they were). Call it first in its transaction: if
    another worker copies them at the same moment, this session is rolled back and reads
    theirs."""
    steps = visit_steps(session, appointment_id=appointment_id)
    if steps:
        return steps
    visit = get_appointment(session, appointment_id=appointment_id)
    service = session.get(Service, visit.service_id) if visit.service_id is not None else None
    planned = _planned(service)
    if not planned:
        return []
    session.add_all(
        VisitStep(appointment_id=visit.id, position=i, name=s["name"], kind=s["kind"],
                  planned_min=s["minutes"], status="pending", elapsed_s=0.0, products="",
                  done_by="")
        for i, s in enumerate(planned)
    )  # fmt: skip
    try:
        session.flush()
    except IntegrityError:  # copied by another worker a moment ago: theirs stand
        session.rollback()
    return visit_steps(session, appointment_id=appointment_id)


def _step(session: Session, appointment_id: int, position: int) -> VisitStep:
    step = session.scalar(
        select(VisitStep).where(
            VisitStep.appointment_id == appointment_id, VisitStep.position == position
        )
    )
    if step is None:
        raise InvalidValue("step", position, "a step of this visit's checklist")
    return step


def _products(raw: str) -> str:
    text = " ".join(raw.split())
    if len(text) > MAX_PRODUCTS_CHARS:
        raise InvalidValue("products", f"{len(text)} characters",
                           f"at most {MAX_PRODUCTS_CHARS} characters")  # fmt: skip
    return text


def _running_for_s(step: VisitStep, now: datetime) -> float:
    if step.running_since is None:
        return 0.0
    return max(0.0, (now - step.running_since).total_seconds())


def _changes(step: VisitStep, action: str, now: datetime) -> dict[str, Any]:
    """The columns ``action`` sets on ``step`` at ``now`` (its state already allowed)."""
    if action == "start":
        return {"status": "running", "running_since": now, "started_at": step.started_at or now}
    if action == "reopen":
        return {"status": "paused" if step.started_at else "pending", "ended_at": None,
                "done_by_id": None, "done_by": ""}  # fmt: skip
    elapsed = step.elapsed_s + _running_for_s(step, now)
    if action == "pause":
        return {"status": "paused", "running_since": None, "elapsed_s": elapsed}
    return {"status": "done" if action == "done" else "skipped", "running_since": None,
            "elapsed_s": elapsed, "ended_at": now}  # fmt: skip


def _check_action(visit: Appointment, step: VisitStep, action: str) -> None:
    if action not in ACTIONS:
        raise InvalidValue("action", action, f"one of {', '.join(ACTIONS)}")
    if visit.state in _CLOSED_VISITS:
        raise Conflict(
            "step",
            f"this visit is {visit.state.replace('_', '-')}: its steps are closed",
            refused=STEP_REFUSED,
        )
    if action == "products":
        return
    if step.kind == _MICROCURRENT:
        raise Conflict("step", "the microcurrent step is the device session: it runs from "
                       "the console, and its state is the session's", refused=STEP_REFUSED)  # fmt: skip
    if step.status not in _FROM[action]:
        raise Conflict(
            "step", f"{step.name} is {step.status}: it cannot be {_PAST[action]}",
            refused=STEP_REFUSED,
        )  # fmt: skip


_PAST = {"start": "started", "pause": "paused", "done": "marked done", "skip": "skipped",
         "reopen": "reopened"}  # fmt: skip


def act_on_step(
    session: Session,
    *,
    appointment_id: int,
    position: int,
    action: str,
    products: str | None = None,
    operator_id: int | None = None,
    operator: str = "",
    now: datetime | None = None,
) -> VisitStep:
    """Start, pause, finish (``done``) or ``skip`` the visit's step at ``position``, ``reopen``
    one done or skipped (by mistake: the audit keeps who did), or only save its ``products``;
    ``products`` given with any action is saved with it. Finishing or skipping names the
    operator; reopening clears who and when it ended. A bad value is `InvalidValue`; an
    action its state does not allow, a step changed meanwhile or a visit cancelled or missed
    is `Conflict`."""
    at = now or utc_now()
    visit = get_appointment(session, appointment_id=appointment_id)
    step = _step(session, visit.id, position)
    _check_action(visit, step, action)
    values: dict[str, Any] = {} if action == "products" else _changes(step, action, at)
    if products is not None:
        values["products"] = _products(products)
    if action in ("done", "skip"):
        values |= {"done_by_id": operator_id, "done_by": operator[:200]}
    if not values:
        return step
    values["updated_at"] = at
    _compare_and_set(session, step, values)
    return step


def _compare_and_set(session: Session, step: VisitStep, values: dict[str, Any]) -> None:
    """Write ``values`` only if the step is still in the state it was read in."""
    since = step.running_since
    changed = session.execute(
        update(VisitStep)
        .where(
            VisitStep.id == step.id,
            VisitStep.status == step.status,
            VisitStep.running_since.is_(None)
            if since is None
            else VisitStep.running_since == since,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 1) != 1:
        session.expire(step)
        raise Conflict(
            "step", f"{step.name} was changed meanwhile: reload to see it", refused=STEP_REFUSED
        )
    session.expire(step)


def link_skin_analysis(session: Session, *, appointment_id: int, analysis: SkinAnalysis) -> None:
    """The skin analysis taken at the visit, linked to its skin-analysis step; `InvalidValue`
    when the visit has none, or when the analysis is another client's."""
    visit = get_appointment(session, appointment_id=appointment_id)
    if analysis.client_id != visit.client_id:
        raise InvalidValue("appointment_id", appointment_id, "a visit of this client")
    step = next((s for s in open_visit_steps(session, appointment_id=visit.id)
                 if s.kind == "skin_analysis"), None)  # fmt: skip
    if step is None:
        raise InvalidValue("appointment_id", appointment_id, "a visit with a skin-analysis step")
    step.skin_analysis_id = analysis.id
    session.flush()


@dataclass(frozen=True)
class StepView:
    """A step as it is shown: for the microcurrent step, the session record's state and times
    (``record_id``); ``taken_s`` counts up to ``now`` while it runs."""

    position: int
    name: str
    kind: str
    planned_min: int
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    running_since: datetime | None
    taken_s: float
    products: str
    done_by: str
    record_id: int | None = None
    skin_analysis_id: int | None = None
    skin_analysis_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {"position": self.position, "name": self.name, "kind": self.kind,
                "planned_min": self.planned_min, "status": self.status,
                "started_at": iso(self.started_at), "ended_at": iso(self.ended_at),
                "running_since": iso(self.running_since), "taken_s": round(self.taken_s, 1),
                "products": self.products, "done_by": self.done_by or None,
                "record_id": self.record_id, "skin_analysis_id": self.skin_analysis_id,
                "skin_analysis_version": self.skin_analysis_version}  # fmt: skip


def _session_view(step: VisitStep, record: TreatmentSession | None, by: str,
                  now: datetime) -> StepView:  # fmt: skip
    if record is None:
        return StepView(step.position, step.name, step.kind, step.planned_min, "pending",
                        None, None, None, 0.0, step.products, "")  # fmt: skip
    end = record.ended_at or now
    return StepView(step.position, step.name, step.kind, step.planned_min, record.status,
                    record.started_at, record.ended_at,
                    record.started_at if record.ended_at is None else None,
                    max(0.0, (end - record.started_at).total_seconds()), step.products, by,
                    record_id=record.id)  # fmt: skip


def _manual_view(step: VisitStep, version: int | None, now: datetime) -> StepView:
    return StepView(step.position, step.name, step.kind, step.planned_min, step.status,
                    step.started_at, step.ended_at, step.running_since,
                    step.elapsed_s + _running_for_s(step, now), step.products, step.done_by,
                    skin_analysis_id=step.skin_analysis_id,
                    skin_analysis_version=version)  # fmt: skip


def _views(session: Session, steps: Sequence[VisitStep], visit: Appointment,
           now: datetime) -> list[StepView]:  # fmt: skip
    record = (session.get(TreatmentSession, visit.treatment_session_id)
              if visit.treatment_session_id is not None else None)  # fmt: skip
    who = session.get(User, record.practitioner_id) if record and record.practitioner_id else None
    wanted = [s.skin_analysis_id for s in steps if s.skin_analysis_id]
    versions: dict[int, int] = {
        row.id: row.version
        for row in session.execute(
            select(SkinAnalysis.id, SkinAnalysis.version).where(SkinAnalysis.id.in_(wanted))
        )
    }
    return [
        _session_view(s, record, who.display_name if who else "", now)
        if s.kind == _MICROCURRENT
        else _manual_view(s, versions.get(s.skin_analysis_id or 0), now)
        for s in steps
    ]


def step_views(
    session: Session, *, appointment_id: int, now: datetime | None = None
) -> list[StepView]:
    """The visit's checklist as shown, opened (copied from its service) if it was not yet."""
    visit = get_appointment(session, appointment_id=appointment_id)
    steps = open_visit_steps(session, appointment_id=visit.id)
    return _views(session, steps, visit, now or utc_now())


def record_step_views(
    session: Session, *, record_id: int, now: datetime | None = None
) -> list[StepView]:
    """The steps of the visit a session record was run for (none for a record of no visit,
    or of a visit whose service has no manual steps). Reads only."""
    visit = session.scalar(select(Appointment).where(Appointment.treatment_session_id == record_id))
    if visit is None:
        record = session.get(TreatmentSession, record_id)
        if record is None or record.appointment_id is None:
            return []
        visit = session.get(Appointment, record.appointment_id)
        if visit is None:
            return []
    steps = visit_steps(session, appointment_id=visit.id)
    return _views(session, steps, visit, now or utc_now()) if steps else []
