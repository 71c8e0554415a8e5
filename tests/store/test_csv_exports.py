"""CSV exports: each table's rows are the store's own figures, a day range picks rows by their
day, and a cell a spreadsheet would run as a formula is neutralised; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from microamp.errors import InvalidValue
from microamp.store import Store
from microamp.store.book_setup import get_settings
from microamp.store.csv_exports import day_range, neutralised, write_csv
from microamp.store.models import Client
from microamp.store.session_models import TreatmentSession
from store.test_fhir import DOSES, seed_client


def _rows(store: Store, table: str, **days: date | None) -> list[dict[str, str]]:
    out = io.StringIO()
    with store.transaction() as db:
        written = write_csv(db, table=table, out=out, days=day_range(days.get("first"),
                                                                     days.get("last")))  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert written == len(rows)
    return rows


def test_dose_has_one_row_per_session_per_zone_with_the_records_figures(store: Store) -> None:
    ids = seed_client(store)
    rows = _rows(store, "dose")
    assert len(rows) == sum(len(d) for d in DOSES)
    for session_id, dose in zip(ids["records"], DOSES, strict=True):
        mine = {r["zone"]: r for r in rows if r["session_id"] == str(session_id)}
        assert set(mine) == set(dose)
        for zone, figures in dose.items():
            for key in ("charge_uc", "mean_current_ua", "stimulation_s", "mean_impedance_ohm"):
                expected = figures[key]
                cell = mine[zone][key]
                assert (cell == "") if expected is None else (float(cell) == expected)
            assert mine[zone]["client_id"] == str(ids["client"])


def test_sessions_total_the_dose_and_appointments_name_room_and_service(store: Store) -> None:
    ids = seed_client(store)
    sessions = {r["session_id"]: r for r in _rows(store, "sessions")}
    first = sessions[str(ids["records"][0])]
    assert float(first["total_charge_uc"]) == 812.25 + 401.0 + 120.5
    assert float(first["total_stimulation_s"]) == 540.0
    assert first["status"] == "completed" and first["practitioner"] == "Pat Reyes"
    (visit,) = _rows(store, "appointments")
    assert (visit["appointment_id"], visit["room"], visit["service"]) == (
        str(ids["visit"]), "Room A", "Lift facial")  # fmt: skip
    (client,) = _rows(store, "clients")
    assert (client["full_name"], client["date_of_birth"]) == ("Inês Duarte", "1984-02-29")
    assert client["phone"] == "'+351 912 345 678"  # a leading + is a formula to a spreadsheet


def test_a_formula_in_a_name_is_written_as_text(store: Store) -> None:
    ids = seed_client(store)
    with store.transaction() as db:
        client = db.get(Client, ids["client"])
        assert client is not None
        client.full_name = '=HYPERLINK("http://evil.example","x")'
    (row,) = _rows(store, "clients")
    assert row["full_name"] == '\'=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("plain", "plain"), (-3.5, -3.5), (None, "")],
)  # fmt: skip
def test_neutralised_cells(value: Any, cell: Any) -> None:
    assert neutralised(value) == cell


def test_a_day_range_picks_sessions_and_appointments_by_their_day(store: Store) -> None:
    ids = seed_client(store)
    today = date.today()
    with store.transaction() as db:
        old = db.get(TreatmentSession, ids["records"][0])
        assert old is not None
        old.started_at = old.started_at - timedelta(days=30)
    recent = _rows(store, "dose", first=today - timedelta(days=1))
    assert {r["session_id"] for r in recent} == {str(ids["records"][1])}
    older = _rows(store, "sessions", last=today - timedelta(days=2))
    assert [r["session_id"] for r in older] == [str(ids["records"][0])]
    assert _rows(store, "appointments", last=today) == []  # the visit is in two days
    assert len(_rows(store, "appointments", first=today, last=today + timedelta(days=2))) == 1
    with store.transaction() as db:
        assert db.scalar(select(TreatmentSession.id).limit(1)) is not None


def test_a_range_that_ends_before_it_starts_names_to() -> None:
    with pytest.raises(InvalidValue) as raised:
        day_range(date(2026, 3, 2), date(2026, 3, 1))
    assert raised.value.field == "to"


def test_an_unknown_table_names_table(store: Store) -> None:
    with store.transaction() as db, pytest.raises(InvalidValue) as raised:
        write_csv(db, table="users", out=io.StringIO())
    assert raised.value.field == "table"


def test_days_are_the_clinics_own(store: Store) -> None:
    ids = seed_client(store)
    with store.transaction() as db:
        get_settings(db).time_zone = "Asia/Tokyo"  # UTC+9 all year
        record = db.get(TreatmentSession, ids["records"][0])
        assert record is not None
        record.started_at = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 2 March, 05:00 in Tokyo
    on_the_2nd = _rows(store, "sessions", first=date(2026, 3, 2), last=date(2026, 3, 2))
    assert [r["session_id"] for r in on_the_2nd] == [str(ids["records"][0])]
    assert _rows(store, "sessions", first=date(2026, 3, 1), last=date(2026, 3, 1)) == []
