"""The home regimen: done and missed days, the streak, adherence, the daily time."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microamp.clinic.home_regimen import daily_time_refusal, home_plan, regimen

MONDAY = date(2030, 3, 4)


def test_three_weekdays_done_are_a_streak_of_three() -> None:
    done = [MONDAY + timedelta(days=i) for i in range(3)]
    status = regimen(home_plan(MONDAY), done, MONDAY + timedelta(days=3))
    assert (status.streak, status.adherence) == (3, 1.0)
    assert status.kind_of(MONDAY + timedelta(days=3)) == "due"


def test_a_missed_planned_day_breaks_the_streak_and_lowers_adherence() -> None:
    done = [MONDAY + timedelta(days=i) for i in range(3)]
    status = regimen(home_plan(MONDAY), done, MONDAY + timedelta(days=4))
    assert status.streak == 0 and status.best_streak == 3
    assert status.adherence == 0.75
    assert status.kind_of(MONDAY + timedelta(days=3)) == "missed"


def test_the_weekend_is_rest_and_does_not_break_a_streak() -> None:
    done = [MONDAY + timedelta(days=i) for i in range(5)]
    status = regimen(home_plan(MONDAY), done, MONDAY + timedelta(days=7))
    assert status.streak == 5
    assert status.kind_of(MONDAY + timedelta(days=5)) == "rest"


def test_after_sixty_days_the_plan_asks_three_days_a_week() -> None:
    plan = home_plan(MONDAY)
    late = [s.on_date for s in plan.sessions if s.on_date >= MONDAY + timedelta(days=70)]
    weeks: dict[int, int] = {}
    for day in late:
        weeks[day.isocalendar()[1]] = weeks.get(day.isocalendar()[1], 0) + 1
    assert set(list(weeks.values())[1:-1]) == {3}


@given(st.sets(st.integers(min_value=0, max_value=60)), st.integers(min_value=0, max_value=70))
def test_adherence_is_done_over_planned_so_far_and_the_streak_never_beats_it(
    offsets: set[int], today_offset: int
) -> None:
    today = MONDAY + timedelta(days=today_offset)
    done = [MONDAY + timedelta(days=o) for o in offsets]
    status = regimen(home_plan(MONDAY), done, today)
    assert 0 <= status.streak <= status.best_streak <= status.done_so_far <= status.planned_so_far
    if status.adherence is not None:
        assert 0.0 <= status.adherence <= 1.0


def test_a_routine_past_the_days_time_is_refused_with_what_is_left() -> None:
    refused = daily_time_refusal(used_s=900, routine_s=400, max_daily_s=1200, source="NuFACE")
    assert refused is not None and refused.field == "routine"
    assert "5.0 min left [NuFACE]" in refused.rule
    assert daily_time_refusal(used_s=800, routine_s=400, max_daily_s=1200, source="x") is None
