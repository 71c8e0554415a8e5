"""Her regimen's plan and its done days: the clinic's plan where her record has one, else the
home app's NuFACE-style plan from her first run.

A home account linked to a clinic client whose record holds a course plan follows that plan:
its dates are the plan's visits as the appointment book keeps them now (moved ones where they
moved, cancelled ones gone). A home plan (``home-daily``) is preferred to a clinic course when
she has both, since it is the one written for her days at home; else the newest plan. A day
is done when she finished a routine on it at home (guided or on the device) or a session
completed on her record that day, in the clinic's time zone.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic import plans as clinic_plans
from microamp.clinic.booking import ACTIVE_STATES, clinic_zone
from microamp.clinic.home_regimen import home_plan
from microamp.store.book_setup import get_settings
from microamp.store.home import done_days
from microamp.store.home_models import HomeAccount
from microamp.store.models import CoursePlan
from microamp.store.session_models import TreatmentSession

__all__ = ["PlanSource", "regimen_done_days", "regimen_plan"]

PlanSource = Literal["clinic", "home"]
HOME_TEMPLATE = "home-daily"


def regimen_plan(
    session: Session, account: HomeAccount
) -> tuple[clinic_plans.CoursePlan, PlanSource]:
    """The plan her regimen follows and where it comes from."""
    rows = list(
        session.scalars(
            select(CoursePlan)
            .where(CoursePlan.client_id == account.client_id)
            .order_by(CoursePlan.created_at.desc(), CoursePlan.id.desc())
        )
    )
    chosen = next((r for r in rows if r.template == HOME_TEMPLATE), rows[0] if rows else None)
    planned = _as_plan(chosen) if chosen is not None else None
    if planned is None:
        return home_plan(account.plan_start), "home"
    return planned, "clinic"


def _as_plan(row: CoursePlan) -> clinic_plans.CoursePlan | None:
    visits = sorted(
        (a for a in row.appointments if a.state in ACTIVE_STATES), key=lambda a: a.on_date
    )
    if not visits:
        return None  # every visit cancelled: no plan to follow
    sessions = tuple(
        clinic_plans.PlannedSession(
            number=i + 1,
            on_date=a.on_date,
            phase="maintenance" if a.phase == "maintenance" else "initial",
            checkin=a.checkin,
        )
        for i, a in enumerate(visits)
    )
    weekdays = tuple(clinic_plans.WEEKDAYS.index(d) for d in row.weekdays)
    return clinic_plans.CoursePlan(
        template=row.template,
        start=row.start_date,
        end=visits[-1].on_date,
        weekdays=weekdays,
        months=row.months,
        sessions=sessions,
    )


def regimen_done_days(session: Session, account: HomeAccount) -> set[date]:
    """Her home days done, and the days a session on her record completed."""
    zone = clinic_zone(get_settings(session).time_zone)
    completed = session.scalars(
        select(TreatmentSession.started_at).where(
            TreatmentSession.client_id == account.client_id,
            TreatmentSession.status == "completed",
        )
    )
    return done_days(session, account) | {at.astimezone(zone).date() for at in completed}
