"""Time in a day for a person the home profile governs, on SQLite and PostgreSQL: her guided
logs and her device records (by what they delivered) count together in the clinic's time zone,
a session still running counts its plan, a refusal names the field, what was asked and the
rule; nobody without a home account is capped; and no sequence of guided and device sessions
over simulated days ever gives a day past `max_daily_s`."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.safety.limits import get_profile
from microamp.store.book_models import ClinicSettings
from microamp.store.book_setup import get_settings
from microamp.store.crud import create_client
from microamp.store.daily_time import check_daily_time, client_day, seconds_used_on
from microamp.store.db import Store
from microamp.store.home_models import HomeAccount, HomeSession
from microamp.store.session_models import SessionEvent, TreatmentSession

DAY = date(2030, 3, 4)
MAX_DAILY_S = get_profile("home").max_daily_s.value
_ids = itertools.count()


def _person(db: Session, *, home: bool = True) -> int:
    n = next(_ids)
    client = create_client(db, full_name=f"Person {n}", date_of_birth=date(1980, 1, 1), today=DAY)
    if home:
        db.add(HomeAccount(client_id=client.id, display_name=client.full_name, password_hash="x",
                           skipped=[], zone_levels={}, plan_start=DAY))  # fmt: skip
        db.flush()
    return client.id


def _guided(db: Session, client_id: int, day: date, seconds: float) -> None:
    account = db.query(HomeAccount).filter_by(client_id=client_id).one()
    db.add(HomeSession(uuid=f"log-{next(_ids):08d}", account_id=account.id, client_id=client_id,
                       protocol_name="home-express", protocol_hash="", mode="guided",
                       on_date=day, seconds_done=seconds, steps_done=[], status="completed",
                       cues=0))  # fmt: skip
    db.flush()


def _device(db: Session, client_id: int, at: datetime, *, delivered_s: float | None,
            status: str = "completed", planned_s: float = 0.0) -> None:  # fmt: skip
    kept = {} if delivered_s is None else {"stimulation_s": delivered_s}
    record = TreatmentSession(client_id=client_id, protocol_name="home-express", status=status,
                              started_at=at, delivered_settings=kept)  # fmt: skip
    db.add(record)
    db.flush()
    db.add(SessionEvent(session_id=record.id, seq=0, kind="started", t_s=0.0,
                        data={"planned_duration_s": planned_s}))  # fmt: skip
    db.flush()


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_guided_and_device_time_count_together_and_the_refusal_names_the_rule(
    store: Store,
) -> None:
    with store.transaction() as db:
        her = _person(db)
        _guided(db, her, DAY, 12 * 60)
        _device(db, her, _noon(DAY), delivered_s=5 * 60)
        # a stopped session counts what it delivered, not what it planned
        _device(db, her, _noon(DAY), delivered_s=60, status="stopped", planned_s=300)
        _device(db, her, _noon(DAY), delivered_s=None, status="refused")
        assert seconds_used_on(db, client_id=her, day=DAY) == 18 * 60
        check_daily_time(db, client_id=her, planned_s=120, on=DAY)
        with pytest.raises(InvalidValue) as refused:
            check_daily_time(db, client_id=her, planned_s=121, on=DAY)
        assert refused.value.field == "routine" and refused.value.value == "2.0 min"
        assert "18.0 of today's 20 min are used, 2.0 min left" in refused.value.rule
        assert "[" in refused.value.rule  # the limit's source
        # the next day is a new day
        check_daily_time(db, client_id=her, planned_s=MAX_DAILY_S, on=DAY + timedelta(days=1))


def test_a_session_still_running_counts_its_whole_plan(store: Store) -> None:
    with store.transaction() as db:
        her = _person(db)
        _device(db, her, _noon(DAY), delivered_s=None, status="running", planned_s=900)
        assert seconds_used_on(db, client_id=her, day=DAY) == 900
        with pytest.raises(InvalidValue):
            check_daily_time(db, client_id=her, planned_s=301, on=DAY)


def test_a_record_still_starting_counts_the_time_it_planned_else_a_whole_session(
    store: Store,
) -> None:
    """A record opened by a start whose runner has not begun: what the start planned (kept at
    the record's opening), or a whole home session if it said nothing."""
    with store.transaction() as db:
        her = _person(db)
        db.add(TreatmentSession(client_id=her, protocol_name="home-express", status="running",
                                started_at=_noon(DAY), delivered_settings={"planned_s": 300.0}))  # fmt: skip
        db.flush()
        assert seconds_used_on(db, client_id=her, day=DAY) == 300
        check_daily_time(db, client_id=her, planned_s=MAX_DAILY_S - 300, on=DAY)
        db.add(TreatmentSession(client_id=her, protocol_name="home-express", status="running",
                                started_at=_noon(DAY)))  # fmt: skip
        db.flush()
        assert seconds_used_on(db, client_id=her, day=DAY) == 300 + MAX_DAILY_S


def test_an_interrupted_record_without_a_summary_counts_the_time_its_events_reached(
    store: Store,
) -> None:
    with store.transaction() as db:
        her = _person(db)
        _device(db, her, _noon(DAY), delivered_s=None, status="interrupted", planned_s=300)
        record_id = db.query(TreatmentSession.id).filter_by(client_id=her).scalar()
        db.add(SessionEvent(session_id=record_id, seq=1, kind="cue", t_s=200.0, data={}))
        db.flush()
        assert seconds_used_on(db, client_id=her, day=DAY) == 200.0


def test_her_day_is_the_clinics_time_zone(store: Store) -> None:
    with store.transaction() as db:
        settings_row = get_settings(db)
        db.merge(ClinicSettings(id=1, name="", address="", time_zone="Asia/Tokyo",
                                opening_hours=settings_row.opening_hours, care_sheet="",
                                reminder_lead_hours=24, currency="USD"))  # fmt: skip
        db.flush()
        her = _person(db)
        # 16:00 UTC on the 4th is 01:00 on the 5th in Tokyo
        late = datetime.combine(DAY, time(16), tzinfo=UTC)
        _device(db, her, late, delivered_s=600)
        assert seconds_used_on(db, client_id=her, day=DAY) == 0
        assert seconds_used_on(db, client_id=her, day=DAY + timedelta(days=1)) == 600
        assert client_day(db, now=late) == DAY + timedelta(days=1)
        assert late.astimezone(ZoneInfo("Asia/Tokyo")).date() == DAY + timedelta(days=1)


def test_a_client_without_a_home_account_is_not_capped_by_the_home_day(store: Store) -> None:
    with store.transaction() as db:
        clinic_client = _person(db, home=False)
        _device(db, clinic_client, _noon(DAY), delivered_s=MAX_DAILY_S)
        check_daily_time(db, client_id=clinic_client, planned_s=MAX_DAILY_S, on=DAY)


SESSION = st.tuples(
    st.integers(0, 3),  # which simulated day
    st.sampled_from(["guided", "device", "running"]),
    st.floats(30, 1200),  # the routine's planned seconds
    st.floats(0, 1),  # the share of it delivered before it ended
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sessions=st.lists(SESSION, max_size=14))
def test_no_sequence_of_guided_and_device_sessions_passes_the_daily_limit(
    store: Store, sessions: list[tuple[int, str, float, float]]
) -> None:
    # the truth kept beside the store: what each day was given (a running session may yet
    # deliver all it planned)
    given_s = dict.fromkeys(range(4), 0.0)
    with store.transaction() as db:
        her = _person(db)
        for offset, kind, planned_s, share in sessions:
            day = DAY + timedelta(days=offset)
            try:
                check_daily_time(db, client_id=her, planned_s=planned_s, on=day)
            except InvalidValue as refused:
                assert refused.field == "routine"
                continue
            given_s[offset] += planned_s if kind == "running" else planned_s * share
            if kind == "guided":
                _guided(db, her, day, planned_s * share)
            elif kind == "device":
                _device(db, her, _noon(day), delivered_s=planned_s * share, planned_s=planned_s)
            else:  # still under way when the next start is asked for
                _device(db, her, _noon(day), delivered_s=None, status="running",
                        planned_s=planned_s)  # fmt: skip
    assert all(day_s <= MAX_DAILY_S + 1e-6 for day_s in given_s.values()), given_s


def test_microamp_run_for_her_past_the_day_is_bad_input_naming_the_routine(
    store: Store, database_url: str
) -> None:
    from store.test_run_client_cli import _client, _run

    client_id = _client(store)
    with store.transaction() as db:
        db.add(HomeAccount(client_id=client_id, display_name="Rosa Diaz", password_hash="x",
                           skipped=[], zone_levels={}, plan_start=DAY))  # fmt: skip
        db.flush()
        _guided(db, client_id, client_day(db, now=datetime.now(UTC)), 18 * 60)
    result = _run(database_url, client_id, "home-express")
    assert result.exit_code == 2, result.output
    assert "routine" in result.output and "of today's 20 min are used" in result.output
    assert "Traceback" not in result.output
    with store.session() as db:
        assert db.query(TreatmentSession).count() == 0
