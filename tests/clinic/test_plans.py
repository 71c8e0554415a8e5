"""Course plans: templates as DOMAIN.md describes them; dates on chosen days, 48 h apart, never
on a closure; a check-in after the 5th session; calendar export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from microamp.clinic.ics import plan_to_ics
from microamp.clinic.plans import TEMPLATES, add_months, parse_weekdays, plan_course
from microamp.errors import InvalidValue

MONDAY = date(2026, 11, 23)


def phase_dates(plan_template: str, phase: str, **kwargs: object) -> list[date]:
    plan = plan_course(plan_template, start=MONDAY, **kwargs)  # type: ignore[arg-type]
    return [s.on_date for s in plan.sessions if s.phase == phase]


def test_clinic_initial_is_twice_a_week_for_six_weeks_then_monthly() -> None:
    initial = phase_dates("clinic-initial", "initial", months=6)
    assert len(initial) == 12
    assert initial[-1] - initial[0] < timedelta(weeks=6)
    maintenance = phase_dates("clinic-initial", "maintenance", months=6)
    assert len(maintenance) >= 3
    gaps = [(b - a).days for a, b in zip(maintenance, maintenance[1:], strict=False)]
    assert all(28 <= gap <= 37 for gap in gaps)


def test_weekly_series_is_twelve_weekly_sessions_then_every_four_weeks() -> None:
    initial = phase_dates("weekly-series", "initial", months=6)
    maintenance = phase_dates("weekly-series", "maintenance", months=6)
    assert len(initial) == 12 and all(d.weekday() == 0 for d in initial)
    assert {(b - a).days for a, b in zip(initial, initial[1:], strict=False)} == {7}
    assert (maintenance[0] - initial[-1]).days == 28


def test_intensive_is_three_a_week_for_four_weeks_then_weekly() -> None:
    initial = phase_dates("intensive", "initial", months=3)
    assert len(initial) == 12 and initial[-1] < MONDAY + timedelta(weeks=4)
    assert [d.weekday() for d in initial[:3]] == [0, 2, 4]
    maintenance = phase_dates("intensive", "maintenance", months=3)
    assert {(b - a).days for a, b in zip(maintenance, maintenance[1:], strict=False)} == {7}


def test_home_daily_is_five_days_a_week_for_sixty_days_then_three_a_week() -> None:
    plan = plan_course("home-daily", start=MONDAY, months=4)
    initial = [s.on_date for s in plan.sessions if s.phase == "initial"]
    assert len(initial) == 43 and initial[-1] < MONDAY + timedelta(days=60)
    assert all(d.weekday() < 5 for d in initial)
    maintenance = [s.on_date for s in plan.sessions if s.phase == "maintenance"]
    per_week: dict[tuple[int, int], int] = {}
    for d in maintenance:
        week = d.isocalendar()[:2]
        per_week[week] = per_week.get(week, 0) + 1
    assert max(per_week.values()) == 3


def test_the_clients_weekdays_are_honoured() -> None:
    plan = plan_course("clinic-initial", start=MONDAY, weekdays=parse_weekdays("tue,fri"))
    assert {s.on_date.weekday() for s in plan.sessions} <= {1, 4}


def test_adjacent_weekdays_never_put_clinic_sessions_within_48_hours() -> None:
    plan = plan_course("clinic-initial", start=MONDAY, weekdays=parse_weekdays("mon,tue"))
    dates = [s.on_date for s in plan.sessions]
    assert min((b - a).days for a, b in zip(dates, dates[1:], strict=False)) >= 2
    assert len([s for s in plan.sessions if s.phase == "initial"]) == 12


def test_closures_move_sessions_later_and_keep_the_count() -> None:
    closures = [(date(2026, 12, 21), date(2027, 1, 3))]
    plan = plan_course("clinic-initial", start=MONDAY, closures=closures)
    dates = [s.on_date for s in plan.sessions]
    assert not [d for d in dates if date(2026, 12, 21) <= d <= date(2027, 1, 3)]
    assert len([s for s in plan.sessions if s.phase == "initial"]) == 12


def test_a_progress_check_in_follows_the_fifth_session() -> None:
    plan = plan_course("weekly-series", start=MONDAY)
    assert [s.number for s in plan.sessions if s.checkin] == [5]


def test_json_has_numbered_sessions_with_phases() -> None:
    document = plan_course("intensive", start=MONDAY, months=2).to_dict()
    assert [s["number"] for s in document["sessions"]] == list(
        range(1, len(document["sessions"]) + 1)
    )
    assert {s["phase"] for s in document["sessions"]} == {"initial", "maintenance"}
    assert document["sessions"][0] == {
        "number": 1,
        "date": "2026-11-23",
        "phase": "initial",
        "checkin": False,
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": 37}, "months"),
        ({"weekdays": (7,)}, "weekdays"),
        ({"closures": [(date(2026, 12, 2), date(2026, 12, 1))]}, "closures"),
        ({"closures": [(date(2026, 1, 1), date(2030, 1, 1))]}, "closures"),
    ],
)
def test_bad_plans_name_the_problem(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        plan_course("clinic-initial", start=MONDAY, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_unknown_templates_and_weekdays_are_refused() -> None:
    with pytest.raises(InvalidValue, match="template"):
        plan_course("daily", start=MONDAY)
    with pytest.raises(InvalidValue, match="weekdays"):
        parse_weekdays("mon,funday")


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_ics_export_has_one_all_day_event_per_session() -> None:
    plan = plan_course("weekly-series", start=MONDAY, months=4)
    calendar = Calendar.from_ical(
        plan_to_ics(plan, stamp=datetime(2026, 11, 21, tzinfo=UTC), client_name="Ana Lima")
    )
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(plan.sessions)
    assert [e.decoded("dtstart") for e in events] == [s.on_date for s in plan.sessions]
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert "check-in" in str(events[4]["description"])


closure_ranges = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 10)).map(
        lambda p: (MONDAY + timedelta(days=p[0]), MONDAY + timedelta(days=p[0] + p[1]))
    ),
    max_size=4,
)


@given(
    template=st.sampled_from(sorted(TEMPLATES)),
    start=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    weekdays=st.sets(st.integers(0, 6), min_size=1, max_size=7),
    months=st.integers(1, 8),
    closures=closure_ranges,
)
def test_plan_dates_obey_weekdays_closures_and_the_48_hour_rule(
    template: str, start: date, weekdays: set[int], months: int, closures: list[tuple[date, date]]
) -> None:
    plan = plan_course(
        template, start=start, weekdays=sorted(weekdays), months=months, closures=closures
    )
    dates = [s.on_date for s in plan.sessions]
    assert dates == sorted(dates) and dates[0] >= start
    assert all(d.weekday() in weekdays for d in dates)
    assert not any(first <= d <= last for d in dates for first, last in closures)
    min_gap = 2 if TEMPLATES[template].clinic else 1
    assert all((b - a).days >= min_gap for a, b in zip(dates, dates[1:], strict=False))
    assert sum(s.phase == "initial" for s in plan.sessions) == TEMPLATES[template].initial_sessions
    quota = max(
        TEMPLATES[template].initial.per_week or 1, TEMPLATES[template].maintenance.per_week or 1
    )
    weeks = [d.isocalendar()[:2] for d in dates]
    assert max(weeks.count(week) for week in weeks) <= quota
