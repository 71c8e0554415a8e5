"""Course plans: made from a template for a client, kept with one appointment per session."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from sqlalchemy import select

from microamp.clinic import plans as clinic_plans
from microamp.errors import NotFound
from microamp.store.book_setup import plan_closures, plan_weekdays
from microamp.store.crud import get_client
from microamp.store.models import CoursePlan
from microamp.store.planning import get_plan, save_plan
from microamp.web.api.models import PlanCreate, PlanPublic, PlanSession
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

_ID = invalid("The id in the path is not a whole number from 1 to 2147483647")
router = APIRouter(tags=["plans"])


# what a plan's session was called before appointments had states of their own
_LEGACY_STATUS = {"completed": "done", "cancelled": "cancelled", "no_show": "missed"}


def _public(row: CoursePlan) -> PlanPublic:
    return PlanPublic(
        id=row.id,
        client_id=row.client_id,
        template=row.template,
        protocol_name=row.protocol_name,
        start=row.start_date,
        weekdays=list(row.weekdays),
        months=row.months,
        estimated_cost=None if row.estimated_cost_cents is None else row.estimated_cost_cents / 100,
        sessions=[
            PlanSession(
                number=a.number,
                date=a.on_date,
                phase=a.phase,
                checkin=a.checkin,
                status=_LEGACY_STATUS.get(a.state, "planned"),
                state=a.state,
                appointment_id=a.id,
            )
            for a in row.appointments
        ],
    )


@router.get("/clients/{client_id}/plans", responses=_ID)
def client_plans(user: ApiUser, db: DbDep, client_id: RowId) -> list[PlanPublic]:
    get_client(db, client_id=client_id)
    rows = db.scalars(
        select(CoursePlan).where(CoursePlan.client_id == client_id).order_by(CoursePlan.id)
    )
    plans = [_public(row) for row in rows]
    audit(db, user, "read", f"client:{client_id}/plans", client_id=client_id)
    return plans


@router.post(
    "/clients/{client_id}/plans",
    status_code=201,
    responses=invalid(
        "`template` is not a known course, `weekdays` are not day names, `months` is not 1-36, or `price_per_session` is below 0"
    ),
)
def create(user: ApiUser, db: DbDep, client_id: RowId, body: PlanCreate) -> PlanPublic:
    get_client(db, client_id=client_id)
    plan = clinic_plans.plan_course(
        body.template,
        start=body.start,
        weekdays=plan_weekdays(db, client_id=client_id, chosen=body.weekdays or ()),
        months=body.months,
        closures=plan_closures(db, from_day=body.start),
    )
    price = None if body.price_per_session is None else Decimal(str(body.price_per_session))
    row = save_plan(
        db,
        client_id=client_id,
        plan=plan,
        protocol_name=body.protocol_name,
        price_per_session=price,
        estimated_cost=None if price is None else price * len(plan.sessions),
        created_by_id=user.id,
    )
    audit(db, user, "write", f"client:{client_id}/plan", client_id=client_id, plan_id=row.id)
    return _public(row)


@router.get("/plans/{plan_id}", responses=_ID)
def plan(user: ApiUser, db: DbDep, plan_id: RowId) -> PlanPublic:
    row = get_plan(db, plan_id=plan_id)
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    audit(db, user, "read", f"client:{row.client_id}/plan", client_id=row.client_id,
          plan_id=plan_id)  # fmt: skip
    return _public(row)
