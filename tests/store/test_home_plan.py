"""Her regimen follows the clinic's plan where her record has one, on SQLite and PostgreSQL:
the plan's visits as the book keeps them (a cancelled one gone), a session completed on her
record counts as a day done, and without a plan the home app's own plan holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from microamp.clinic.home_regimen import regimen
from microamp.clinic.plans import plan_course
from microamp.store.db import Store
from microamp.store.home import create_home_account, home_account
from microamp.store.home_plan import regimen_done_days, regimen_plan
from microamp.store.planning import save_plan
from microamp.store.session_models import TreatmentSession

DAY = date(2030, 3, 4)  # a Monday


def _account(store: Store) -> int:
    with store.transaction() as db:
        return create_home_account(db, display_name="Ines", date_of_birth=date(1979, 2, 3),
                                   password_hash="x", plan_start=DAY, today=DAY).client_id  # fmt: skip


def test_without_a_clinic_plan_her_regimen_is_the_home_plan(store: Store) -> None:
    _account(store)
    with store.session() as db:
        account = home_account(db)
        assert account is not None
        plan, source = regimen_plan(db, account)
    assert source == "home" and plan.template == "home-daily" and plan.start == DAY


def test_the_clinics_plan_is_her_regimen_with_its_days_done_and_missed(store: Store) -> None:
    client_id = _account(store)
    course = plan_course("clinic-initial", start=DAY, weekdays=(0, 3), months=3)
    with store.transaction() as db:
        row = save_plan(db, client_id=client_id, plan=course)
        row.appointments[2].state = "cancelled"  # the third visit called off
        # the first visit done at the clinic, on her record
        db.add(TreatmentSession(client_id=client_id, protocol_name="pro-express",
                                status="completed",
                                started_at=datetime.combine(DAY, time(10), tzinfo=UTC)))  # fmt: skip
    with store.session() as db:
        account = home_account(db)
        assert account is not None
        plan, source = regimen_plan(db, account)
        done = regimen_done_days(db, account)
    assert source == "clinic" and plan.template == "clinic-initial"
    expected = [s.on_date for i, s in enumerate(course.sessions) if i != 2]
    assert [s.on_date for s in plan.sessions] == expected
    assert course.sessions[2].on_date not in {s.on_date for s in plan.sessions}
    # Monday done, Thursday missed: 1 of 2, streak broken
    status = regimen(plan, done, DAY + timedelta(days=4))
    assert status.kind_of(DAY) == "done" and status.kind_of(DAY + timedelta(days=3)) == "missed"
    assert status.planned_so_far == 2 and status.done_so_far == 1 and status.adherence == 0.5
    assert status.streak == 0 and status.best_streak == 1


def test_a_home_plan_from_the_clinic_wins_over_a_clinic_course(store: Store) -> None:
    client_id = _account(store)
    with store.transaction() as db:
        save_plan(db, client_id=client_id,
                  plan=plan_course("home-daily", start=DAY + timedelta(days=7), months=2))  # fmt: skip
        save_plan(db, client_id=client_id, plan=plan_course("intensive", start=DAY, months=2))
    with store.session() as db:
        account = home_account(db)
        assert account is not None
        plan, source = regimen_plan(db, account)
    assert source == "clinic" and plan.template == "home-daily"
    assert plan.start == DAY + timedelta(days=7)
