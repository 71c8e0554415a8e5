"""A visit's manual steps in the store, on SQLite and PostgreSQL: copied from the service once,
timed start/pause/done with the time taken kept, products and the operator, the microcurrent
step read from the session record, the skin analysis linked, revision 0016 up and down."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect

from microamp.errors import Conflict, InvalidValue
from microamp.store import Store, StoreSettings, open_store
from microamp.store.book import book_appointment, set_state
from microamp.store.book_setup import save_settings, update_service
from microamp.store.db import make_engine
from microamp.store.migrate import migrate_to
from microamp.store.recording import SessionRecorder
from microamp.store.records import session_record_dict
from microamp.store.skin import record_skin_analysis
from microamp.store.visit_models import VisitStep
from microamp.store.visit_steps import (
    act_on_step,
    link_skin_analysis,
    open_visit_steps,
    record_step_views,
    step_views,
)
from support.clinic_book import MONDAY, Clinic, seed_clinic

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def clinic(store: Store) -> Clinic:
    with store.transaction() as session:
        return seed_clinic(session)


@pytest.fixture
def visit_id(store: Store, clinic: Clinic) -> int:
    with store.transaction() as session:
        visit = book_appointment(
            session,
            client_id=clinic.clients[0],
            service_id=clinic.facial,
            room_id=clinic.rooms[0],
            practitioner_id=clinic.practitioners[0],
            start=datetime(MONDAY.year, MONDAY.month, MONDAY.day, 10),
        )
        return visit.id


def test_the_checklist_is_the_service_steps_copied_once(
    store: Store, clinic: Clinic, visit_id: int
) -> None:
    with store.transaction() as session:
        steps = open_visit_steps(session, appointment_id=visit_id)
        assert [(s.name, s.kind, s.planned_min) for s in steps] == [
            ("Cleanse", "cleansing", 10),
            ("Microcurrent", "microcurrent", 40),
            ("Mask", "mask", 10),
        ]
        update_service(session, service_id=clinic.facial,
                       steps=[{"name": "Steam", "minutes": 5, "kind": "steam_exfoliation"}])  # fmt: skip
    with store.transaction() as session:
        again = open_visit_steps(session, appointment_id=visit_id)
        assert [s.name for s in again] == ["Cleanse", "Microcurrent", "Mask"]
        assert len(list(session.scalars(sa.select(VisitStep)))) == 3


def test_a_service_without_manual_steps_has_no_checklist(store: Store, clinic: Clinic) -> None:
    with store.transaction() as session:
        visit = book_appointment(session, client_id=clinic.clients[1], service_id=clinic.short,
                                 room_id=clinic.rooms[1], practitioner_id=clinic.practitioners[1],
                                 start=datetime(2026, 12, 7, 11))  # fmt: skip
        assert open_visit_steps(session, appointment_id=visit.id) == []


def test_a_service_naming_no_microcurrent_step_has_the_session_last(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        update_service(session, service_id=clinic.short,
                       steps=[{"name": "Cleanse", "minutes": 5, "kind": "cleansing"}])  # fmt: skip
        visit = book_appointment(session, client_id=clinic.clients[1], service_id=clinic.short,
                                 room_id=clinic.rooms[1], practitioner_id=clinic.practitioners[1],
                                 start=datetime(2026, 12, 7, 11))  # fmt: skip
        kinds = [s.kind for s in open_visit_steps(session, appointment_id=visit.id)]
        assert kinds == ["cleansing", "microcurrent"]


def test_time_taken_counts_only_while_running(store: Store, visit_id: int) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=2, action="start", now=T0)
        act_on_step(session, appointment_id=visit_id, position=2, action="pause",
                    now=T0 + timedelta(seconds=90))  # fmt: skip
        act_on_step(session, appointment_id=visit_id, position=2, action="start",
                    now=T0 + timedelta(seconds=300))  # fmt: skip
        running = step_views(session, appointment_id=visit_id, now=T0 + timedelta(seconds=330))
        assert running[2].status == "running" and running[2].taken_s == pytest.approx(120)
        act_on_step(session, appointment_id=visit_id, position=2, action="done",
                    products="Hydrating sheet mask", operator_id=None, operator="Ana",
                    now=T0 + timedelta(seconds=360))  # fmt: skip
    with store.session() as session:
        done = step_views(session, appointment_id=visit_id, now=T0 + timedelta(hours=5))[2]
        assert (done.status, done.taken_s) == ("done", pytest.approx(150))
        assert done.started_at == T0 and done.ended_at == T0 + timedelta(seconds=360)
        assert (done.products, done.done_by) == ("Hydrating sheet mask", "Ana")


def test_a_step_ticked_without_its_timer_keeps_the_products_and_who(
    store: Store, clinic: Clinic, visit_id: int
) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=0, action="done",
                    products="  Gentle   cleanser ", operator_id=clinic.practitioners[0],
                    operator="Ana", now=T0)  # fmt: skip
        row = open_visit_steps(session, appointment_id=visit_id)[0]
        assert (row.status, row.started_at, row.ended_at, row.elapsed_s) == ("done", None, T0, 0)
        assert (row.products, row.done_by_id) == ("Gentle cleanser", clinic.practitioners[0])


def test_actions_their_state_does_not_allow_are_conflicts(store: Store, visit_id: int) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        with pytest.raises(Conflict, match="pending: it cannot be paused"):
            act_on_step(session, appointment_id=visit_id, position=0, action="pause")
        act_on_step(session, appointment_id=visit_id, position=0, action="skip", operator="Ana")
        with pytest.raises(Conflict, match="skipped"):
            act_on_step(session, appointment_id=visit_id, position=0, action="start")
        with pytest.raises(Conflict, match="device session"):
            act_on_step(session, appointment_id=visit_id, position=1, action="done")
        with pytest.raises(InvalidValue) as bad:
            act_on_step(session, appointment_id=visit_id, position=0, action="boil")
        assert bad.value.field == "action"
        with pytest.raises(InvalidValue) as missing:
            act_on_step(session, appointment_id=visit_id, position=9, action="start")
        assert missing.value.field == "step"
        with pytest.raises(InvalidValue) as long:
            act_on_step(session, appointment_id=visit_id, position=2, action="products",
                        products="x" * 501)  # fmt: skip
        assert long.value.field == "products"


def test_a_step_done_or_skipped_by_mistake_is_reopened_with_its_time_kept(
    store: Store, visit_id: int
) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=2, action="start", now=T0)
        act_on_step(session, appointment_id=visit_id, position=2, action="done", operator="Ana",
                    now=T0 + timedelta(seconds=60))  # fmt: skip
        act_on_step(session, appointment_id=visit_id, position=2, action="reopen",
                    now=T0 + timedelta(seconds=200))  # fmt: skip
        row = open_visit_steps(session, appointment_id=visit_id)[2]
        assert (row.status, row.elapsed_s, row.ended_at, row.done_by) == ("paused", 60, None, "")
        assert row.started_at == T0
        act_on_step(session, appointment_id=visit_id, position=2, action="start",
                    now=T0 + timedelta(seconds=300))  # fmt: skip
        act_on_step(session, appointment_id=visit_id, position=2, action="done", operator="Bo",
                    now=T0 + timedelta(seconds=330))  # fmt: skip
        act_on_step(session, appointment_id=visit_id, position=0, action="skip", operator="Ana")
        act_on_step(session, appointment_id=visit_id, position=0, action="reopen")
        with pytest.raises(Conflict, match="pending: it cannot be reopened"):
            act_on_step(session, appointment_id=visit_id, position=0, action="reopen")
    with store.session() as session:
        views = step_views(session, appointment_id=visit_id, now=T0 + timedelta(hours=1))
        assert (views[2].status, views[2].taken_s, views[2].done_by) == ("done", 90, "Bo")
        assert views[0].status == "pending" and views[0].started_at is None


def test_a_cancelled_visit_closes_its_steps(store: Store, visit_id: int) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        set_state(session, appointment_id=visit_id, state="cancelled")
        with pytest.raises(Conflict, match="cancelled") as closed:
            act_on_step(session, appointment_id=visit_id, position=0, action="start")
    assert closed.value.refused == "This step cannot change"


def test_a_change_from_a_stale_read_is_refused(store: Store, visit_id: int) -> None:
    """Two workers read the step running; the first pauses it, the second's pause finds it
    changed and adds nothing."""
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=0, action="start", now=T0)
    with store.session() as stale:
        step = open_visit_steps(stale, appointment_id=visit_id)[0]
        assert step.status == "running"
        with store.transaction() as first:
            act_on_step(first, appointment_id=visit_id, position=0, action="pause",
                        now=T0 + timedelta(seconds=60))  # fmt: skip
        from microamp.store.visit_steps import _compare_and_set

        with pytest.raises(Conflict, match="changed meanwhile"):
            _compare_and_set(stale, step, {"status": "paused", "running_since": None,
                                           "elapsed_s": 999.0})  # fmt: skip
    with store.session() as session:
        assert open_visit_steps(session, appointment_id=visit_id)[0].elapsed_s == 60


def test_the_microcurrent_step_is_the_session_record(
    store: Store, clinic: Clinic, visit_id: int
) -> None:
    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=1, action="products",
                    products="Conductive gel")  # fmt: skip
        assert step_views(session, appointment_id=visit_id)[1].status == "pending"
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=clinic.clients[0],
                                     practitioner_id=clinic.practitioners[0],
                                     appointment_id=visit_id)  # fmt: skip
    with store.session() as session:
        live = step_views(session, appointment_id=visit_id)[1]
        assert (live.status, live.done_by) == ("running", "Ana")
        assert live.record_id == recorder.session_id
    recorder.finish("completed")
    with store.transaction() as session:
        views = record_step_views(session, record_id=recorder.session_id)
        assert [v.status for v in views] == ["pending", "completed", "pending"]
        assert views[1].products == "Conductive gel" and views[1].ended_at is not None
        document = session_record_dict(session, session_id=recorder.session_id)
        steps = document["service_steps"]
        assert [s["name"] for s in steps] == ["Cleanse", "Microcurrent", "Mask"]
        assert steps[1]["record_id"] == recorder.session_id
        # the mask after the session, on a visit already completed with its record
        act_on_step(session, appointment_id=visit_id, position=2, action="done", operator="Ana")
    with store.session() as session:
        after = session_record_dict(session, session_id=recorder.session_id)["service_steps"]
        assert after[2]["status"] == "done"


def test_a_record_of_no_visit_has_no_steps(store: Store, clinic: Clinic) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=clinic.clients[0])
    recorder.finish("completed")
    with store.session() as session:
        assert session_record_dict(session, session_id=recorder.session_id)["service_steps"] == []


def test_the_skin_analysis_taken_at_the_visit_is_linked_to_its_step(
    store: Store, clinic: Clinic
) -> None:
    with store.transaction() as session:
        update_service(session, service_id=clinic.short, steps=[
            {"name": "Skin analysis", "minutes": 5, "kind": "skin_analysis"}])  # fmt: skip
        visit = book_appointment(session, client_id=clinic.clients[1], service_id=clinic.short,
                                 room_id=clinic.rooms[1], practitioner_id=clinic.practitioners[1],
                                 start=datetime(2026, 12, 7, 11))  # fmt: skip
        analysis = record_skin_analysis(session, client_id=clinic.clients[1],
                                        assessed_on=visit.on_date, today=date(2026, 12, 7),
                                        skin_type="dry", fitzpatrick_type="II", laxity_grade=1)  # fmt: skip
        link_skin_analysis(session, appointment_id=visit.id, analysis=analysis)
        view = step_views(session, appointment_id=visit.id)[0]
        assert (view.skin_analysis_id, view.skin_analysis_version) == (analysis.id, 1)
        other = record_skin_analysis(session, client_id=clinic.clients[0],
                                     assessed_on=visit.on_date, today=date(2026, 12, 7),
                                     skin_type="oily", fitzpatrick_type="III", laxity_grade=0)  # fmt: skip
        with pytest.raises(InvalidValue, match="a visit of this client"):
            link_skin_analysis(session, appointment_id=visit.id, analysis=other)


def test_revision_0016_adds_the_table_and_takes_it_away(
    database_url: str, settings: StoreSettings
) -> None:
    with open_store(database_url, settings=settings, upgrade=True) as store:
        assert "visit_steps" in inspect(store.engine).get_table_names()
    engine = make_engine(database_url, settings)
    try:
        migrate_to(engine, "0015", down=True)
        assert "visit_steps" not in inspect(engine).get_table_names()
        migrate_to(engine, "0016", down=False)
        assert "visit_steps" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_records_show_lists_the_steps_in_the_clinic_zone(
    database_url: str, store: Store, clinic: Clinic, visit_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from microamp.cli import common
    from microamp.cli.main import app

    with store.transaction() as session:
        open_visit_steps(session, appointment_id=visit_id)
        act_on_step(session, appointment_id=visit_id, position=0, action="start", now=T0)
        act_on_step(session, appointment_id=visit_id, position=0, action="done",
                    products="Gentle cleanser", operator="Ana",
                    now=T0 + timedelta(seconds=125))  # fmt: skip
        save_settings(session, time_zone="Asia/Tokyo")
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=clinic.clients[0],
                                     appointment_id=visit_id)  # fmt: skip
    recorder.finish("completed")
    runner = CliRunner()
    # wide enough that no cell wraps: the console's width is read from COLUMNS when it is made,
    # and a test worker may have set that before the CLI was imported
    monkeypatch.setattr(common.console, "_width", 200)
    shown = runner.invoke(app, ["records", "show", str(recorder.session_id),
                                "--database", database_url])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "Asia/Tokyo" in text and "Gentle cleanser" in text
    assert "2026-12-07 19:00" in text and "2:05" in text  # 10:00 UTC is 19:00 in Tokyo
    as_json = runner.invoke(app, ["records", "show", str(recorder.session_id),
                                  "--database", database_url, "--json"])  # fmt: skip
    steps = json.loads(as_json.stdout)["service_steps"]
    assert steps[0]["started_at"] == T0.isoformat() and steps[0]["products"] == "Gentle cleanser"


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(presses=st.lists(st.tuples(st.sampled_from(("start", "pause", "done", "skip", "reopen")),
                                  st.integers(min_value=0, max_value=600)), max_size=8))  # fmt: skip
def test_time_taken_is_the_sum_of_the_running_spans_whatever_is_pressed(
    store: Store, clinic: Clinic, presses: list[tuple[str, int]]
) -> None:
    """Any sequence of presses, some refused: the time taken is exactly the time the step was
    running, it never runs after it was done or skipped until it is reopened, and a refused
    press changes nothing."""
    with store.transaction() as session:
        visit = book_appointment(session, client_id=clinic.clients[2], service_id=clinic.facial,
                                 room_id=clinic.rooms[1], practitioner_id=clinic.practitioners[1],
                                 start=datetime(2026, 12, 8, 9))  # fmt: skip
        open_visit_steps(session, appointment_id=visit.id)
        at, running_since, expected_s, closed = T0, None, 0.0, False
        for action, wait_s in presses:
            at += timedelta(seconds=wait_s)
            allowed = (action == "reopen") == closed and (
                action == "reopen"
                or (action == "start" and running_since is None)
                or (action == "pause" and running_since is not None)
                or action in ("done", "skip")
            )
            try:
                act_on_step(session, appointment_id=visit.id, position=0, action=action, now=at)
            except Conflict:
                assert not allowed
                continue
            assert allowed
            if running_since is not None and action != "start":
                expected_s += (at - running_since).total_seconds()
            running_since = at if action == "start" else None
            closed = action in ("done", "skip")  # reopened: open again, not running
        view = step_views(session, appointment_id=visit.id, now=at + timedelta(seconds=30))[0]
        if running_since is not None:
            expected_s += (at + timedelta(seconds=30) - running_since).total_seconds()
        assert view.taken_s == pytest.approx(expected_s)
        assert (view.running_since is None) == (running_since is None)
        set_state(session, appointment_id=visit.id, state="cancelled")  # frees the slot
