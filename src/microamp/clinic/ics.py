"""Calendar export: a course plan as an iCalendar file, one all-day event per session."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from microamp.clinic.plans import CoursePlan

__all__ = ["plan_to_ics"]


def plan_to_ics(
    plan: CoursePlan,
    *,
    stamp: datetime,
    summary: str = "Microcurrent facial",
    client_name: str = "",
) -> bytes:
    """The plan as ``text/calendar`` bytes. ``stamp`` (timezone-aware) is the DTSTAMP of every
    event; UIDs depend only on the plan, so re-exporting updates rather than duplicates."""
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
        calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics
