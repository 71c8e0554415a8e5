"""Session recording: events committed one by one, telemetry in chunks, recovery after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from microamp.devices.base import TelemetryFrame
from microamp.errors import InvalidValue, StoreError
from microamp.store import (
    SessionEvent,
    SessionRecorder,
    Store,
    StoreSettings,
    TreatmentSession,
    get_session_record,
    open_store,
    record_refusal,
    recover_interrupted,
    session_record_dict,
    session_telemetry,
    set_feedback,
)
from microamp.store.base import utc_now
from microamp.store.recording import record_summary

CHILD = Path(__file__).with_name("recorder_child.py")


@dataclass(frozen=True)
class StepEvent:
    """An event object as the runner emits them: kind, t_s and to_dict()."""

    kind: str
    t_s: float
    zone: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "t_s": self.t_s, "zone": self.zone}


def frame(
    t_s: float, delivered_ua: float = 200.0, flags: frozenset[str] = frozenset()
) -> TelemetryFrame:
    return TelemetryFrame(
        t_s=t_s,
        commanded_ua=200.0,
        delivered_ua=delivered_ua,
        peak_ua=delivered_ua + 5,
        voltage_v=2.0,
        impedance_ohm=10_000.0,
        flags=flags,
    )


def start(store: Store, **kwargs: Any) -> SessionRecorder:
    return SessionRecorder.start(
        store,
        protocol_name="lift",
        protocol_version="1.2",
        protocol_hash="sha256:abc",
        device_url="sim://?load=gel",
        device_capabilities={"backend": "sim", "max_current_ua": 1000.0},
        **kwargs,
    )


def test_a_completed_session_keeps_events_dose_and_settings(store: Store) -> None:
    recorder = start(store, avoid_zones=["eyes"])
    recorder({"kind": "started", "t_s": 0.0})
    recorder(StepEvent("step_started", 0.5, "cheeks"))
    for i in range(200):
        recorder(frame(i * 0.02))
    recorder(
        {
            "kind": "session_ended",
            "t_s": 4.0,
            "status": "completed",
            "dose_by_zone": {"cheeks": {"charge_uc": 12.5, "time_s": 3.5}},
            "delivered_settings": {"amplitude_ua": 200.0, "frequency_hz": 10.0},
        }
    )
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "completed"
        assert record.ended_at is not None
        assert record.dose_by_zone == {"cheeks": {"charge_uc": 12.5, "time_s": 3.5}}
        assert record.delivered_settings["amplitude_ua"] == 200.0
        assert [e.kind for e in record.events] == ["started", "step_started", "session_ended"]
        assert record.events[1].data == {"zone": "cheeks"}
        assert record.event_count == 3
        assert record.telemetry_frames == 200
        assert record.avoid_zones == ["eyes"]
        rows = session_telemetry(session, session_id=recorder.session_id)
    # 4 s of telemetry at the default 4 rows a second
    assert len(rows) == 16
    assert np.allclose(rows[:, 2], 200.0)
    assert np.all(np.diff(rows[:, 0]) > 0)


def test_a_kind_that_is_a_status_ends_the_session_with_it(store: Store) -> None:
    recorder = start(store)
    recorder({"kind": "aborted", "t_s": 1.0, "fault": "contact_lost"})
    assert recorder.status == "aborted"
    with pytest.raises(StoreError, match="already aborted"):
        recorder({"kind": "late", "t_s": 2.0})


def test_events_without_kind_or_time_are_refused(store: Store) -> None:
    recorder = start(store)
    with pytest.raises(InvalidValue, match="t_s"):
        recorder.record_event({"kind": "cue", "t_s": float("nan")})
    with pytest.raises(InvalidValue, match="kind"):
        recorder.record_event({"kind": "", "t_s": 1.0})
    recorder.close()


def test_non_finite_values_are_stored_as_null(store: Store) -> None:
    recorder = start(store)
    recorder({"kind": "reading", "t_s": 1.0, "impedance_ohm": float("inf"), "flags": {"b", "a"}})
    recorder.close()
    with store.session() as session:
        event = get_session_record(session, session_id=recorder.session_id).events[0]
    assert event.data == {"impedance_ohm": None, "flags": ["a", "b"]}


def test_flag_changes_and_open_circuit_survive_packing(store: Store) -> None:
    recorder = start(store)
    for i in range(100):
        flags = frozenset({"open_circuit"}) if 40 <= i < 60 else frozenset()
        recorder(frame(i * 0.05, delivered_ua=0.0 if flags else 200.0, flags=flags))
    recorder.finish("stopped")
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        changes = [change for chunk in record.chunks for change in chunk.flag_changes]
        assert changes == [[2.0, ["open_circuit"]], [3.0, []]]
        assert record.status == "stopped"
        document = session_record_dict(session, session_id=record.id, include_telemetry=True)
    assert document["telemetry"]["rows_stored"] == len(document["telemetry"]["rows"]["t_s"])


def test_closing_without_an_end_event_marks_interrupted(store: Store) -> None:
    with start(store) as recorder:
        recorder({"kind": "started", "t_s": 0.0})
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "interrupted"
        assert [e.kind for e in record.events] == ["started", "interrupted"]


def test_recovery_closes_a_record_whose_process_is_gone(store: Store) -> None:
    recorder = start(store)
    recorder({"kind": "started", "t_s": 0.0})
    recorder({"kind": "step_started", "t_s": 2.5})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with store.transaction() as session:
        session.get(TreatmentSession, recorder.session_id).recorder_pid = int(dead.stdout)
    with store.transaction() as session:
        assert recover_interrupted(session) == [recorder.session_id]
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "interrupted"
        assert [(e.seq, e.kind) for e in record.events] == [
            (0, "started"),
            (1, "step_started"),
            (2, "interrupted"),
        ]
        assert record.events[-1].t_s == 2.5
        assert record.event_count == 3
    # the recorder that lost its record may not write to it again
    with pytest.raises(StoreError, match="no longer running"):
        recorder({"kind": "cue", "t_s": 3.0})


def test_recovery_leaves_a_live_recorder_alone(store: Store) -> None:
    recorder = start(store)
    with store.transaction() as session:
        assert recover_interrupted(session) == []
    recorder.finish("completed")


def test_a_record_from_another_host_is_judged_by_its_last_write(store: Store) -> None:
    recorder = start(store)
    with store.transaction() as session:
        session.get(TreatmentSession, recorder.session_id).recorder_host = "elsewhere"
    with store.transaction() as session:
        assert recover_interrupted(session, stale_after_s=60) == []
        later = utc_now() + timedelta(seconds=120)
        assert recover_interrupted(session, stale_after_s=60, now=later) == [recorder.session_id]


def test_a_killed_recording_process_leaves_an_interrupted_consistent_record(
    database_url: str, settings: StoreSettings, tmp_path: Path
) -> None:
    with open_store(database_url, settings=settings, upgrade=True):
        pass
    events = 12
    child = subprocess.Popen(
        [sys.executable, str(CHILD), database_url, str(tmp_path / "data"), str(events)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line[0] == "ready", line
        session_id = int(line[1])
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()
    with open_store(database_url, settings=settings) as store, store.session() as session:
        record = get_session_record(session, session_id=session_id)
        assert record.status == "interrupted"
        kinds = [e.kind for e in record.events]
        assert kinds == ["step_started"] * events + ["interrupted"]
        assert [e.seq for e in record.events] == list(range(events + 1))
        assert [e.data["n"] for e in record.events[:-1]] == list(range(events))
        assert record.event_count == events + 1
        assert record.ended_at is not None
        rows = session_telemetry(session, session_id=session_id)
        # every flushed chunk decodes; at most the last flush interval is lost
        assert len(rows) > 0 and rows[-1, 0] >= (events - 1) * 0.5 - settings.telemetry_flush_s
        stored = session.scalars(
            select(SessionEvent.seq).where(SessionEvent.session_id == session_id)
        ).all()
        assert sorted(stored) == list(range(events + 1))


def test_a_refused_session_is_recorded_with_its_reasons(store: Store) -> None:
    with store.transaction() as session:
        record = record_refusal(session, protocol_name="lift", reasons=["No consent on file."])
    with store.session() as session:
        document = session_record_dict(session, session_id=record.id)
    assert document["status"] == "refused"
    assert document["refusal_reasons"] == ["No consent on file."]
    assert document["events"][0]["kind"] == "refused"


def test_feedback_is_bounded_and_only_after_the_session(store: Store) -> None:
    recorder = start(store)
    with store.transaction() as session, pytest.raises(StoreError, match="still running"):
        set_feedback(session, session_id=recorder.session_id, comfort=8)
    recorder.finish("completed")
    with store.transaction() as session:
        with pytest.raises(InvalidValue, match="comfort"):
            set_feedback(session, session_id=recorder.session_id, comfort=11)
        record = set_feedback(
            session,
            session_id=recorder.session_id,
            comfort=0,
            tingling=True,
            metallic_taste=False,
            redness=True,
        )
        assert (record.feedback_comfort, record.feedback_tingling, record.feedback_redness) == (
            0,
            True,
            True,
        )


def runner_events(*, end: bool = True) -> list[dict[str, Any]]:
    """Events shaped as the session runner emits them (their to_dict())."""
    step = {"muscle": "zygomaticus major", "side": "left", "requested_ua": 300.0, "intensity": 1.0}
    events: list[dict[str, Any]] = [
        {
            "kind": "started",
            "t_s": 0.0,
            "protocol": "lift",
            "protocol_version": "2.0",
            "content_hash": "sha256:feed",
            "device": {"backend": "sim", "max_current_ua": 800.0},
        },
        {"kind": "precheck", "t_s": 0.0, "check": "screening", "ok": True, "reasons": []},
        {
            "kind": "step_started",
            "t_s": 0.1,
            "step": 0,
            "zone": "cheeks",
            "amplitude_ua": 250.0,
            "waveform": {"shape": "square", "frequency_hz": 10.0},
            **step,
        },
        {
            "kind": "intensity_adjusted",
            "t_s": 1.0,
            "step": 0,
            "intensity": 0.8,
            "reason": "comfort",
        },
        {
            "kind": "step_completed",
            "t_s": 5.0,
            "step": 0,
            "zone": "cheeks",
            "charge_uc": 900.0,
            "stimulation_s": 4.9,
        },
        {
            "kind": "step_started",
            "t_s": 5.1,
            "step": 1,
            "zone": "jawline",
            "amplitude_ua": 300.0,
            "waveform": {"shape": "square", "frequency_hz": 10.0},
            **step,
        },
        {
            "kind": "step_completed",
            "t_s": 9.0,
            "step": 1,
            "zone": "jawline",
            "charge_uc": 1100.0,
            "stimulation_s": 3.9,
        },
        {
            "kind": "step_started",
            "t_s": 9.1,
            "step": 2,
            "zone": "cheeks",
            "amplitude_ua": 250.0,
            **step,
        },
        {
            "kind": "step_completed",
            "t_s": 12.0,
            "step": 2,
            "zone": "cheeks",
            "charge_uc": 700.0,
            "stimulation_s": 2.9,
        },
    ]
    if end:
        events.append(
            {
                "kind": "ended",
                "t_s": 12.5,
                "status": "completed",
                "reason": "",
                "steps_completed": 3,
                "steps_total": 3,
                "delivered_charge_uc": 2700.0,
                "duration_s": 12.5,
            }
        )
    return events


def test_a_runner_session_fills_protocol_device_dose_and_settings_from_its_events(
    store: Store,
) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift", device_url="sim://")
    for event in runner_events():
        recorder(event)
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "completed"
        assert (record.protocol_version, record.protocol_hash) == ("2.0", "sha256:feed")
        assert record.device_capabilities["max_current_ua"] == 800.0
        assert record.dose_by_zone == {
            "cheeks": {"charge_uc": 1600.0, "stimulation_s": pytest.approx(7.8)},
            "jawline": {"charge_uc": 1100.0, "stimulation_s": 3.9},
        }
        steps = record.delivered_settings["steps"]
        assert [(s["zone"], s["amplitude_ua"]) for s in steps] == [
            ("cheeks", 250.0),
            ("jawline", 300.0),
            ("cheeks", 250.0),
        ]
        assert record.delivered_settings["adjustments"][0]["intensity"] == 0.8


def test_a_runner_refusal_is_recorded_as_refused_with_its_reasons(store: Store) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift")
    recorder({"kind": "started", "t_s": 0.0})
    recorder(
        {
            "kind": "precheck",
            "t_s": 0.0,
            "check": "screening",
            "ok": False,
            "reasons": ["Pregnant."],
        }
    )
    recorder({"kind": "refused", "t_s": 0.0, "reasons": ["Pregnant."]})
    recorder({"kind": "ended", "t_s": 0.0, "status": "refused", "reason": "Pregnant."})
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "refused"
        assert record.refusal_reasons == ["Pregnant."]
        assert record.dose_by_zone == {}


def test_the_runner_summary_is_added_to_a_closed_record(store: Store) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift")
    summary = {
        "dose_by_zone": {"cheeks": {"zone": "cheeks", "charge_uc": 5.0}},
        "faults": [],
        "profile": "home",
    }
    with pytest.raises(StoreError, match="not closed"):
        record_summary(store, session_id=recorder.session_id, summary=summary)
    for event in runner_events():
        recorder(event)
    record_summary(store, session_id=recorder.session_id, summary=summary)
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.dose_by_zone == {"cheeks": {"zone": "cheeks", "charge_uc": 5.0}}
        assert record.delivered_settings["profile"] == "home"
        assert len(record.delivered_settings["steps"]) == 3


def test_recovery_derives_dose_and_settings_from_the_committed_events(store: Store) -> None:
    recorder = SessionRecorder.start(store, protocol_name="lift")
    for event in runner_events(end=False)[:6]:  # cut short after the jawline step started
        recorder(event)
    with store.transaction() as session:
        session.get(TreatmentSession, recorder.session_id).recorder_host = "elsewhere"
    with store.transaction() as session:
        later = utc_now() + timedelta(hours=1)
        recover_interrupted(session, stale_after_s=60, now=later)
    with store.session() as session:
        record = get_session_record(session, session_id=recorder.session_id)
        assert record.status == "interrupted"
        assert record.dose_by_zone == {"cheeks": {"charge_uc": 900.0, "stimulation_s": 4.9}}
        assert [s["zone"] for s in record.delivered_settings["steps"]] == ["cheeks", "jawline"]


def test_telemetry_after_the_end_is_dropped(store: Store) -> None:
    recorder = start(store)
    recorder({"kind": "ended", "t_s": 1.0, "status": "stopped"})
    recorder(frame(1.1))
    with store.session() as session:
        assert get_session_record(session, session_id=recorder.session_id).telemetry_frames == 0
