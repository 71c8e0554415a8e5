"""The clinic layout on PostgreSQL: `microamp serve --workers 4` and two `microamp station`s
(two simulators, `sim://?id=...`) in processes of their own. A session on each station is
started through one worker, watched through another, read, listed, paused, resumed, levelled
and stopped through whichever worker answers each new connection; every load answers, every
control is in the record with its operator, and the record's events and telemetry have no
gaps."""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from microamp.clinic.intake import nothing_to_report
from microamp.store import Store
from microamp.store.crud import create_client, record_consent, record_intake
from microamp.store.session_models import SessionEvent, TelemetryChunk, TreatmentSession
from web.cluster import fresh, served_cluster
from web.conftest import Clinic
from web.test_stations import until

WORKERS = 4
LOADS = 12
# two rooms, two simulators: each its own device, lease and station
ROOMS = {"Room 2": "sim://?id=room-2&load=gel", "Room 3": "sim://?id=room-3&load=wet"}


def second_client(store: Store, clinic: Clinic) -> None:
    """A second cleared client, for the second room."""
    with store.transaction() as db:
        born = date(1990, 2, 3)
        other = create_client(db, full_name="Cleo Diaz", date_of_birth=born)
        record_intake(db, client_id=other.id, answers=nothing_to_report(born),
                      on=date.today(), today=date.today())  # fmt: skip
        record_consent(db, client_id=other.id, typed_signature="Cleo Diaz")
        clinic.clients["second"] = other.id


def cluster(tmp_path: Path) -> AbstractContextManager[Clinic]:
    return served_cluster(tmp_path, workers=WORKERS, stations=ROOMS, more=second_client)


def call(clinic: Clinic, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
    with fresh(clinic, role) as api:
        return api.request(method, path, **kw)


def watch(clinic: Clinic, live_id: str, into: list[tuple[str, Any]]) -> None:
    """The live stream of ``live_id`` up to its end, through whichever worker takes it."""
    page = clinic.browser_client("owner")  # the live stream is a page's: a signed-in cookie
    try:
        _read_stream(page, live_id, into)
    finally:
        page.close()


def _read_stream(page: httpx.Client, live_id: str, into: list[tuple[str, Any]]) -> None:
    with page.stream("GET", f"/live/{live_id}/events") as stream:
        assert stream.status_code == 200
        name = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                into.append((name, json.loads(line.removeprefix("data: "))))
                if name == "end":
                    return


def steer(clinic: Clinic, live_id: str) -> list[httpx.Response]:
    """Pause, resume, pause, resume, level and stop, each by its own operator on a new
    connection (so through any of the workers)."""
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("practitioner", "pause", None), ("owner", "resume", None),
        ("practitioner", "pause", None), ("practitioner", "resume", None),
        ("owner", "intensity", {"level": 0.6}), ("owner", "stop", None),
    ]  # fmt: skip
    return [call(clinic, who, "POST", f"/api/v1/sessions/{live_id}/{what}", json=body)
            for who, what, body in steps]  # fmt: skip


def gaps(clinic: Clinic, record_id: int) -> tuple[list[int], list[int], list[tuple[float, float]]]:
    """The record's event and telemetry sequence numbers, and its chunks' spans, as stored."""
    with clinic.store.session() as db:
        events = list(db.scalars(select(SessionEvent.seq).where(
            SessionEvent.session_id == record_id).order_by(SessionEvent.seq)))  # fmt: skip
        chunks = db.execute(select(TelemetryChunk.seq, TelemetryChunk.t_start_s,
                                   TelemetryChunk.t_end_s)
                            .where(TelemetryChunk.session_id == record_id)
                            .order_by(TelemetryChunk.seq)).all()  # fmt: skip
    return events, [c.seq for c in chunks], [(c.t_start_s, c.t_end_s) for c in chunks]


@pytest.mark.postgres
def test_two_stations_run_a_session_each_steered_through_any_of_four_workers(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path) as clinic:
        lives = []
        for (name, _device), client in zip(ROOMS.items(), ("cleared", "second"), strict=True):
            body = {"client_id": clinic.clients[client], "protocol": "pro-express", "device": name}
            answer = call(clinic, "practitioner", "POST", "/api/v1/sessions", json=body)
            assert answer.status_code == 201, answer.text
            assert answer.json()["station"] == name
            lives.append(answer.json())
        busy = call(
            clinic,
            "practitioner",
            "POST",
            "/api/v1/sessions",
            json={
                "client_id": clinic.clients["cleared"],
                "protocol": "pro-express",
                "device": "Room 3",
            },
        )
        streams: list[list[tuple[str, Any]]] = [[], []]
        watchers = [threading.Thread(target=watch, args=(clinic, live["id"], got), daemon=True)
                    for live, got in zip(lives, streams, strict=True)]  # fmt: skip
        for live, watcher in zip(lives, watchers, strict=True):
            until("the first step", lambda lid=live["id"]: call(
                clinic, "owner", "GET", f"/api/v1/sessions/{lid}").json()["state"]["status"]
                == "running", 60)  # fmt: skip
            watcher.start()
        reads = [call(clinic, "owner", "GET", f"/api/v1/sessions/{live['id']}")
                 for _ in range(LOADS // 2) for live in lives]  # fmt: skip
        listed = [call(clinic, "owner", "GET", "/api/v1/sessions") for _ in range(LOADS)]
        answers = [steer(clinic, live["id"]) for live in lives]
        for watcher in watchers:
            watcher.join(60)
        records = [call(clinic, "owner", "GET", f"/api/v1/records/{live['record_id']}").json()
                   for live in lives]  # fmt: skip
        stored = [gaps(clinic, live["record_id"]) for live in lives]
        with clinic.store.session() as db:
            devices = [db.get(TreatmentSession, live["record_id"]).device_url  # type: ignore[union-attr]
                       for live in lives]  # fmt: skip
        serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    assert busy.status_code == 409, busy.text
    assert [r.status_code for r in reads] == [200] * LOADS
    assert all({live["id"] for live in lives} <= {s["id"] for s in r.json()} for r in listed)
    for steered, record, stream, (events, chunks, spans) in zip(
        answers, records, streams, stored, strict=True
    ):
        assert [a.status_code for a in steered] == [200] * 6, [a.text for a in steered]
        assert [a.json()["state"]["status"] for a in steered[:4]] == ["paused", "running"] * 2
        assert steered[-1].json()["state"]["done"]
        assert record["status"] == "stopped"
        by = [(c["control"], (c["operator"] or {}).get("name")) for c in record["controls"]]
        assert by == [("paused", "Practitioner"), ("resumed", "Owner"),
                      ("paused", "Practitioner"), ("resumed", "Practitioner"),
                      ("intensity_changed", "Owner"), ("stopped", "Owner")], by  # fmt: skip
        # events and telemetry complete: no gap in either sequence, telemetry up to the end
        assert events == list(range(len(events))) and len(events) == len(record["events"])
        assert chunks == list(range(len(chunks))) and chunks, chunks
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:], strict=False))
        assert spans[-1][1] >= record["events"][-1]["t_s"] - 0.5
        names = [name for name, _data in stream]
        assert "event" in names and "telemetry" in names and names[-1] == "end", names[-5:]
    assert devices == list(ROOMS.values())
    assert serve_log.count("Application startup complete") == WORKERS
    assert "Traceback" not in serve_log
