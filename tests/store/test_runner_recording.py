"""The recorder as the session runner's subscriber, gated by screening and consent: what
`microamp run --client` will wire together."""

from __future__ import annotations

from datetime import date
from typing import Any

from clinic.samples import cleared_answers
from microamp.cli.run import open_session
from microamp.clinic.gate import GateDecision
from microamp.session import CheckResult, PrecheckContext, Prechecks
from microamp.store import (
    SessionRecorder,
    Store,
    create_client,
    gate_client,
    get_session_record,
    record_consent,
    record_intake,
    record_summary,
    session_telemetry,
)

DAY = date(2026, 11, 21)
DEVICE = "sim://?load=gel&rate_hz=5000"


def screened_client(store: Store, **answers: Any) -> int:
    with store.transaction() as session:
        client = create_client(session, full_name="Ana Lima", date_of_birth=date(1990, 4, 12))
        record_intake(
            session, client_id=client.id, answers=cleared_answers(**answers), on=DAY, today=DAY
        )
        record_consent(session, client_id=client.id, typed_signature="Ana Lima")
        return client.id


def screening_hook(decision: GateDecision) -> Prechecks:
    def check(_ctx: PrecheckContext) -> CheckResult:
        if decision.allowed:
            return CheckResult.passed(avoid_zones=decision.avoid_zones)
        return CheckResult.refused(decision.reasons)

    return Prechecks(screening=check)


def run_for(store: Store, client_id: int, protocol: str) -> int:
    with store.session() as session:
        decision = gate_client(session, client_id=client_id, on=DAY)
    recorder = SessionRecorder.start(
        store,
        protocol_name=protocol,
        device_url=DEVICE,
        client_id=client_id,
        avoid_zones=decision.avoid_zones,
    )
    with open_session(
        protocol, DEVICE, speed="max", prechecks=screening_hook(decision),
        subscribers=[recorder], telemetry_subscribers=[recorder],
    ) as runner:  # fmt: skip
        summary = runner.run()
    record_summary(store, session_id=recorder.session_id, summary=summary)
    return recorder.session_id


def test_a_contraindicated_client_is_refused_and_no_charge_is_delivered(store: Store) -> None:
    client_id = screened_client(store, pacemaker_or_implanted_device=True)
    session_id = run_for(store, client_id, "eye-area")
    with store.session() as session:
        record = get_session_record(session, session_id=session_id)
        assert record.status == "refused"
        assert any("implanted" in reason for reason in record.refusal_reasons)
        assert sum(zone.get("charge_uc", 0.0) for zone in record.dose_by_zone.values()) == 0.0
        rows = session_telemetry(session, session_id=session_id)
        assert (
            rows[:, 2] == 0
        ).all()  # delivered_ua: not a microampere, if a frame was read at all
        assert record.events[-1].kind == "ended"


def test_a_cleared_client_is_recorded_from_what_the_device_delivered(store: Store) -> None:
    client_id = screened_client(store, skin_conditions_zones=["brows"])
    session_id = run_for(store, client_id, "eye-area")
    with store.session() as session:
        record = get_session_record(session, session_id=session_id)
        assert record.status == "completed", record.events[-1].data
        assert record.avoid_zones == ["brows"]
        assert record.protocol_hash and record.device_capabilities
        assert record.dose_by_zone["eyes"]["charge_uc"] > 0
        assert "brows" not in record.dose_by_zone
        assert "brows" in {
            event.data.get("zone") for event in record.events if event.kind == "step_skipped"
        }
        assert record.delivered_settings["steps"]
        kinds = [event.kind for event in record.events]
        assert kinds[0] == "started" and kinds[-1] == "ended"
        assert record.event_count == len(kinds)
        assert len(session_telemetry(session, session_id=session_id)) > 0
