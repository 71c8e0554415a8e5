"""Free slots without storage: offered exactly where the book's rules (opening hours, working
hours, closures, held spans with their buffers) leave a practitioner and a room free, checked
against a plain reading of those rules for random clinics and books, on days the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from microamp.clinic.booking import (
    WEEKDAYS,
    Hours,
    hours_reason,
    local_to_utc,
    overlaps,
)
from microamp.clinic.slots import FreeSlot, HeldSpans, day_starts, free_slots
from microamp.errors import InvalidValue

LONDON = ZoneInfo("Europe/London")
# an ordinary Monday, the spring-forward Sunday (01:00-02:00 skipped) and the fall-back
# Sunday (01:00-02:00 twice) in London
DAYS = (date(2026, 12, 7), date(2026, 3, 29), date(2026, 10, 25))
ZONES = (ZoneInfo("UTC"), LONDON, ZoneInfo("America/New_York"))


def _hours(day: date, periods: list[tuple[int, int]]) -> Hours:
    """``periods`` in quarter hours of ``day``'s weekday; the other days closed."""
    hours: Hours = {name: [] for name in WEEKDAYS}
    hours[WEEKDAYS[day.weekday()]] = [
        (time(a // 4, 15 * (a % 4)), time(b // 4, 15 * (b % 4))) for a, b in periods
    ]
    return hours


@st.composite
def periods(draw: st.DrawFn) -> list[tuple[int, int]]:
    """One or two opening periods in quarter hours, in order, apart."""
    cuts = sorted(draw(st.sets(st.integers(0, 95), min_size=2, max_size=4)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


@st.composite
def spans(draw: st.DrawFn, day: date) -> list[tuple[datetime, datetime]]:
    """Held spans around ``day`` (UTC), some overlapping one another, as a store may hold."""
    base = datetime.combine(day, time(0, 0), UTC) - timedelta(hours=6)
    out = []
    for start, length in draw(
        st.lists(st.tuples(st.integers(0, 36 * 12), st.integers(1, 48)), max_size=6)
    ):
        first = base + timedelta(minutes=5 * start)
        out.append((first, first + timedelta(minutes=5 * length)))
    return out


def _reference(
    day: date,
    zone: ZoneInfo,
    hours: Hours,
    own: dict[int, Hours | None],
    duration_min: int,
    buffer_min: int,
    rooms: list[int],
    by_room: dict[int, list[tuple[datetime, datetime]]],
    by_person: dict[int, list[tuple[datetime, datetime]]],
    not_before: datetime,
) -> list[FreeSlot]:
    """The rules read plainly: every 15-minute wall time of each opening period, as the book
    places it (`local_to_utc`), each pair checked against every span."""
    out: list[FreeSlot] = []
    seen: set[datetime] = set()
    for opens, closes in hours[WEEKDAYS[day.weekday()]]:
        at = datetime.combine(day, opens)
        while at < datetime.combine(day, closes):
            wall, at = at, at + timedelta(minutes=15)
            try:
                start = local_to_utc(wall, zone)
            except InvalidValue:
                continue  # the clocks skip it
            if start in seen or start < not_before:
                continue
            seen.add(start)
            end = start + timedelta(minutes=duration_min)
            clear = end + timedelta(minutes=buffer_min)
            start_l, end_l = start.astimezone(zone), end.astimezone(zone)
            if end_l.date() != start_l.date() and end_l.time() != time(0, 0):
                continue
            if hours_reason(hours, start_l, end_l) is not None:
                continue
            free_rooms = [
                r for r in rooms if not any(overlaps(start, clear, *s) for s in by_room[r])
            ]
            for who in sorted(own):
                if own[who] is not None and hours_reason(own[who], start_l, end_l) is not None:
                    continue
                if any(overlaps(start, clear, *s) for s in by_person[who]):
                    continue
                if free_rooms:
                    out.append(FreeSlot(start, who, free_rooms[0]))
    return sorted(out, key=lambda s: (s.start, s.practitioner_id))


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    day=st.sampled_from(DAYS),
    zone=st.sampled_from(ZONES),
    clinic=periods(),
    second_hours=st.one_of(st.none(), periods()),
    duration_min=st.sampled_from([15, 30, 45, 60, 90]),
    buffer_min=st.sampled_from([0, 10, 15, 30]),
    closed=st.booleans(),
    not_before_h=st.integers(0, 30),
)
def test_free_slots_are_exactly_what_the_rules_leave_free(
    data: st.DataObject,
    day: date,
    zone: ZoneInfo,
    clinic: list[tuple[int, int]],
    second_hours: list[tuple[int, int]] | None,
    duration_min: int,
    buffer_min: int,
    closed: bool,
    not_before_h: int,
) -> None:
    hours = _hours(day, clinic)
    own: dict[int, Hours | None] = {
        7: None,
        3: None if second_hours is None else _hours(day, second_hours),
    }
    rooms = [20, 10]
    by_room = {r: data.draw(spans(day)) for r in rooms}
    by_person = {p: data.draw(spans(day)) for p in own}
    not_before = datetime.combine(day, time(0, 0), UTC) + timedelta(hours=not_before_h - 6)
    found = free_slots(
        day=day,
        zone=zone,
        hours=hours,
        closed=closed,
        duration_min=duration_min,
        buffer_min=buffer_min,
        practitioners=own,
        rooms=rooms,
        held_by_practitioner={p: HeldSpans(s) for p, s in by_person.items()},
        held_by_room={r: HeldSpans(s) for r, s in by_room.items()},
        not_before=not_before,
    )
    expected = [] if closed else _reference(
        day, zone, hours, own, duration_min, buffer_min, rooms, by_room, by_person, not_before
    )  # fmt: skip
    assert sorted(found, key=lambda s: (s.start, s.practitioner_id)) == expected


@given(held=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=8),
       start=st.integers(0, 240), length=st.integers(1, 40))  # fmt: skip
def test_held_spans_meet_a_span_exactly_when_one_of_them_does(
    held: list[tuple[int, int]], start: int, length: int
) -> None:
    base = datetime(2026, 12, 7, tzinfo=UTC)
    spans_ = [(base + timedelta(minutes=a), base + timedelta(minutes=a + n)) for a, n in held]
    asked = (base + timedelta(minutes=start), base + timedelta(minutes=start + length))
    assert HeldSpans(spans_).free(*asked) == (not any(overlaps(*asked, *s) for s in spans_))


def test_a_wall_time_the_clocks_skip_is_never_offered_and_one_passed_twice_once() -> None:
    night = {name: [(time(0, 0), time(4, 0))] for name in WEEKDAYS}
    spring = day_starts(date(2026, 3, 29), night, LONDON, grid_min=60)
    assert [s.astimezone(LONDON).strftime("%H:%M") for s in spring] == ["00:00", "02:00", "03:00"]
    autumn = day_starts(date(2026, 10, 25), night, LONDON, grid_min=60)
    # 01:00 is passed twice: offered once, at its first instant (British Summer Time)
    assert [s.astimezone(LONDON).strftime("%H:%M %Z") for s in autumn] == [
        "00:00 BST", "01:00 BST", "02:00 GMT", "03:00 GMT"
    ]  # fmt: skip


def test_a_slot_gets_the_first_free_room_and_a_taken_practitioner_is_left_out() -> None:
    day = date(2026, 12, 7)
    hours = _hours(day, [(36, 40)])  # 09:00-10:00
    ten = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    found = free_slots(
        day=day, zone=ZoneInfo("UTC"), hours=hours, closed=False, duration_min=30,
        buffer_min=15, practitioners={1: None, 2: None}, rooms=[5, 6],
        held_by_practitioner={2: HeldSpans([(ten, ten + timedelta(minutes=20))])},
        held_by_room={5: HeldSpans([(ten, ten + timedelta(minutes=45))])},
        not_before=ten - timedelta(days=1),
    )  # fmt: skip
    assert [(f"{s.start:%H:%M}", s.practitioner_id, s.room_id) for s in found] == [
        ("09:00", 1, 6),  # room 5 is held until 09:45
        ("09:15", 1, 6),
        ("09:30", 1, 6),  # 09:30 + 30 min + 15 min buffer reaches 10:15: allowed, only the
        ("09:30", 2, 6),  # end (10:00) must be inside the hours
    ]
    assert free_slots(
        day=day, zone=ZoneInfo("UTC"), hours=hours, closed=True, duration_min=30,
        buffer_min=0, practitioners={1: None}, rooms=[5], held_by_practitioner={},
        held_by_room={}, not_before=ten - timedelta(days=1),
    ) == []  # fmt: skip
