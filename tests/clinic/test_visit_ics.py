"""The calendar file of one visit, as a reminder carries it: read back strictly by icalendar
and checked line by line against RFC 5545 (CRLF, folded at 75 octets, the required fields)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from microamp.clinic.ics import visit_to_ics

START = datetime(2026, 12, 4, 10, 30, tzinfo=timezone(timedelta(hours=1)))


def _visit(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "uid": "appointment-17@clinic.example", "start": START,
        "end": START + timedelta(minutes=60), "summary": "Microcurrent facial",
        "stamp": datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "location": "Room 1, 3 Rue Émile",
        "description": "Arrive without make-up. " * 8,
    }  # fmt: skip
    fields.update(changes)
    return visit_to_ics(**fields)  # type: ignore[arg-type]


def test_the_visit_reads_back_with_its_times_in_utc() -> None:
    (event,) = Calendar.from_ical(_visit()).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert str(event["uid"]) == "appointment-17@clinic.example"
    assert str(event["location"]) == "Room 1, 3 Rue Émile"
    assert int(event["sequence"]) == 0


def test_the_file_keeps_the_rules_of_rfc_5545() -> None:
    raw = _visit()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), "a content line is not folded at 75 octets"
    unfolded = raw.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in unfolded if line]
    assert names[0] == "BEGIN" and unfolded[0] == "BEGIN:VCALENDAR"
    for required in ("PRODID", "VERSION", "UID", "DTSTAMP", "DTSTART"):
        assert required in names
    assert "VERSION:2.0" in unfolded and "METHOD:PUBLISH" in unfolded
    assert any(line.startswith("DTSTART:20261204T093000Z") for line in unfolded)


@pytest.mark.parametrize(
    "changes",
    [
        {"end": START},
        {"start": START.replace(tzinfo=None)},
        {"stamp": datetime(2026, 12, 2, 9, 0)},
    ],
)
def test_a_visit_that_ends_before_it_starts_or_has_naive_times_is_refused(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ValueError):
        _visit(**changes)
