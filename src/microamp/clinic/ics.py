"""Calendar export: a course plan as an iCalendar file, one all-day event per session; one
visit as the file a reminder email carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from microamp.clinic.plans import CoursePlan

__all__ = ["plan_to_ics", "visit_to_ics"]


def plan_to_ics(
    plan: CoursePlan,
    *,
    stamp: datetime,
    summary: str = "Microcurrent facial",
    client_name: str = "",
    alarm_after_start: timedelta | None = None,
) -> bytes:
    """The plan as ``text/calendar`` bytes. ``stamp`` (timezone-aware) is the DTSTAMP of every
    event; UIDs depend only on the plan, so re-exporting updates rather than duplicates. With
    ``alarm_after_start`` every day carries a VALARM that long after the day begins (9 h: at
    9:00), which the phone's calendar rings even when no app of ours is open."""
    calendar = Calendar()
    calendar.add("prodid", "-//microamp//course plan//EN")
    calendar.add("version", "2.0")
    for session in plan.sessions:
        event = Event()
        title = f"{summary} {session.number}/{len(plan.sessions)} ({session.phase})"
        event.add("summary", f"{title}: {client_name}" if client_name else title)
        event.add("dtstart", session.on_date)
        event.add("dtend", session.on_date + timedelta(days=1))
        event.add("dtstamp", stamp)
        uid = f"{plan.template}-{plan.start.isoformat()}-{session.number}"
        event.add(
            "uid", f"{uid}{'-' + client_name.replace(' ', '_') if client_name else ''}@microamp"
        )
        if session.checkin:
            event.add("description", "Progress check-in after this session: photos and ratings.")
        if alarm_after_start is not None:
            event.add_component(_alarm(title, alarm_after_start))
        calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics


def _alarm(title: str, after_start: timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", after_start)
    return alarm


def visit_to_ics(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    stamp: datetime,
    location: str = "",
    description: str = "",
    sequence: int = 0,
) -> bytes:
    """One visit as ``text/calendar`` bytes (RFC 5545, METHOD:PUBLISH), times in UTC. ``uid``
    names the visit for good, so a moved visit sent again with a higher ``sequence`` replaces
    the first in the client's calendar. Raises ValueError on naive times or an end not after
    the start."""
    for name, moment in (("start", start), ("end", end), ("stamp", stamp)):
        if moment.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    if end <= start:
        raise ValueError("the visit must end after it starts")
    calendar = Calendar()
    calendar.add("prodid", "-//microamp//visit//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("sequence", sequence)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics
