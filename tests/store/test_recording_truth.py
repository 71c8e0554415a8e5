"""The record tells the truth of a session: the zones it left out (though the recorder was never
told them), the true peak and mean of what was delivered, the level in force and who did each
control. A real run on the sim through the store's recorder, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from microamp.cli.run import open_session
from microamp.session import CheckResult, Event, Operator, PrecheckContext, Prechecks
from microamp.store import SessionRecorder, Store, get_session_record, record_summary
from microamp.store.records import controls_of, delivered_of, session_record_dict, session_telemetry

DEVICE = "sim://?load=gel&rate_hz=5000"
DANA = Operator("Dana Reyes", 7, "web")
SAM = Operator("Sam Okafor", 9, "api")


def _avoid_neck(_ctx: PrecheckContext) -> CheckResult:
    return CheckResult.passed(avoid_zones=["neck"])


def run_recorded(store: Store, protocol: str = "home-express") -> int:
    """A session whose screening avoids the neck; the recorder is not told so at its start.
    Dana pauses at the second step, Sam sets 50 % and resumes, Dana stops at the fourth."""
    recorder = SessionRecorder.start(store, protocol_name=protocol, device_url=DEVICE)
    with open_session(
        protocol, DEVICE, speed="max", prechecks=Prechecks(screening=_avoid_neck),
        subscribers=[recorder], telemetry_subscribers=[recorder],
    ) as runner:  # fmt: skip

        def operate(event: Event) -> None:
            data = event.to_dict()
            if event.kind == "step_started" and data["position"] == 1:
                runner.pause(DANA)
            elif event.kind == "paused":
                runner.set_intensity(0.5, SAM)
                runner.resume(SAM)
            elif event.kind == "step_started" and data["position"] == 3:
                runner.stop(DANA)

        runner.subscribe(operate)
        summary = runner.run()
    record_summary(store, session_id=recorder.session_id, summary=summary)
    return recorder.session_id


@pytest.fixture
def record_id(store: Store) -> int:
    return run_recorded(store)


def test_the_record_names_the_zone_the_session_left_out(store: Store, record_id: int) -> None:
    with store.session() as session:
        record = get_session_record(session, session_id=record_id)
        assert record.avoid_zones == ["neck"]
        assert "neck" not in record.dose_by_zone


def test_the_record_keeps_the_true_peak_and_mean_delivered(store: Store, record_id: int) -> None:
    with store.session() as session:
        rows = session_telemetry(session, session_id=record_id)
        figures = delivered_of(rows)
        document = session_record_dict(session, session_id=record_id)
        charge_uc = sum(d["charge_uc"] for d in get_session_record(
            session, session_id=record_id).dose_by_zone.values())  # fmt: skip
    # home-express asks 300 µA at full level before the pause (the sim's gel delivers it)
    assert figures["peak_ua"] == pytest.approx(300.0, rel=0.08)
    mean_ua, on_s = figures["mean_ua"], figures["on_s"]
    assert mean_ua is not None and on_s is not None
    assert 0.0 < mean_ua < 300.0
    assert mean_ua * on_s == pytest.approx(charge_uc, rel=0.15)  # the mean is of what flowed
    assert document["delivered"] == figures


def test_the_record_says_who_did_each_control_and_the_level_in_force(
    store: Store, record_id: int
) -> None:
    with store.session() as session:
        record = get_session_record(session, session_id=record_id)
        controls = controls_of(record.events)
        document = session_record_dict(session, session_id=record_id)
    assert [(c["control"], c["operator"]["name"]) for c in controls] == [
        ("paused", "Dana Reyes"),
        ("resumed", "Sam Okafor"),
        ("intensity_changed", "Sam Okafor"),
        ("stopped", "Dana Reyes"),
    ]
    assert controls[2]["level"] == 0.5
    assert document["level"] == 0.5
    assert record.status == "stopped"
    ended: dict[str, Any] = record.events[-1].data
    assert ended["reason"] == "stopped by Dana Reyes"
    assert ended["operator"]["user_id"] == 7
