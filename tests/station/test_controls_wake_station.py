"""Controls at a station in its own process (`python -m microamp station`, the simulator at real
time) do not wait for the runner's next tick: a Stop during the contact precheck cuts its wait
short and zeroes the test current; a pause and a level are taken where they cut a tick's wait
short."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from microamp.session import Operator
from microamp.session.prechecks import STOPPED
from microamp.station import StartRequest, StoreSessions
from microamp.store import Store, StoreSettings, get_session_record, open_store
from microamp.store.records import session_telemetry
from station.test_station_loop import cleared_client
from station.test_stop_wakes_station import (
    _COMMANDED,
    _T,
    DEVICE,
    WAIT_S,
    _output_on,
    _until,
    station_process,
)

DANA = Operator("Dana Reyes", None, "api")
# the runner's tick at a station: a wait that runs to its end moves the paced clock one tick
TICK_S = 0.05


def _events(store: Store, record_id: int) -> list[Any]:
    with store.session() as db:
        return list(get_session_record(db, session_id=record_id).events)


def _kind(store: Store, record_id: int, kind: str, **data: object) -> list[Any]:
    return [e for e in _events(store, record_id)
            if e.kind == kind and all(e.data.get(k) == v for k, v in data.items())]  # fmt: skip


def _started(store: Store) -> Any:
    client_id, practitioner_id = cleared_client(store)
    sessions = StoreSessions(store)
    _until("the station online", lambda: any(s.online for s in sessions.stations()))
    request = StartRequest(client_id, "Ana Lima", "pro-express", DEVICE, 1.0, practitioner_id)
    return sessions.start(request, on=date.today())


# a Stop that lands while the runner polls the device (not in a wait) is taken right after that
# poll, as before; one that lands in a wait must cut it short. Up to this many sessions, each
# stopped during its contact check, until one Stop lands in a wait.
ATTEMPTS = 4


def _stopped_in_the_contact_check(store: Store) -> tuple[list[Any], Any]:
    live = _started(store)
    # the device probe is written: the contact check (1.5 s of test current) is under way
    _until("the device probe", lambda: _kind(store, live.record_id, "precheck", check="device"))
    live.control("stop", DANA)
    assert live.wait(WAIT_S)
    with store.session() as db:
        record = get_session_record(db, session_id=live.record_id)
        assert record.status == "stopped"
        events = list(record.events)
        rows = session_telemetry(db, session_id=live.record_id)
    return events, rows


def test_a_stop_during_the_contact_precheck_at_a_station_wakes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    settings = StoreSettings(data_dir=tmp_path, telemetry_flush_s=0.5)
    heard = []
    with open_store(url, settings=settings, upgrade=True) as store, station_process(url, tmp_path):
        for _ in range(ATTEMPTS):
            events, rows = _stopped_in_the_contact_check(store)
            ended = events[-1]
            assert ended.kind == "ended"
            assert ended.data["reason"] == f"{STOPPED} by Dana Reyes"
            contact = [e for e in events if e.kind == "precheck"][-1]
            assert contact.data["check"] == "contact" and contact.data["reasons"] == [STOPPED]
            assert not (rows[rows[:, _T] > ended.t_s + 1e-6][:, _COMMANDED] > 0.0).any()
            heard.append(ended.data["stop_heard"])
            assert heard[-1] in ("woke", "between"), ended.data
            if heard[-1] == "woke":
                break
    # a Stop cut the contact check's wait short: none waited out its 50 ms tick
    assert "woke" in heard, heard


def _off_the_tick_grid(t_s: float, from_s: float = 0.0) -> bool:
    ticks = (t_s - from_s) / TICK_S
    return abs(ticks - round(ticks)) > 1e-6


def _taken(store: Store, record_id: int, kind: str, seen: int, what: str) -> Any:
    """Waits for the `seen`+1-th event of `kind` and returns it."""
    _until(what, lambda: len(_kind(store, record_id, kind)) > seen)
    return _kind(store, record_id, kind)[seen]


def _off_grids(t_s: float, references_s: list[float]) -> bool:
    return all(_off_the_tick_grid(t_s, r) for r in references_s)


def test_a_pause_and_a_level_at_a_station_are_taken_where_they_wake_its_runner(
    tmp_path: Path,
) -> None:
    """A request that lands while the runner polls the device (not in a wait) is taken right
    after the poll, on the tick grid; one that lands in a wait cuts it short, off the grid. Up
    to `ATTEMPTS` levels, then pause-and-resume rounds, until one of each lands in a wait."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    settings = StoreSettings(data_dir=tmp_path, telemetry_flush_s=0.5)
    with open_store(url, settings=settings, upgrade=True) as store, station_process(url, tmp_path):
        live = _started(store)
        record_id = live.record_id
        _until("current on the probes", lambda: _output_on(store, record_id))
        step = _kind(store, record_id, "step_started")[0]
        # every wait run to its end moves the paced clock a whole tick: the step opened on that
        # grid, and each request that woke the runner moved the grid to where it was taken
        assert not _off_the_tick_grid(step.t_s)
        grids_s = [step.t_s]
        levels = []
        for n, fraction in enumerate((0.5, 0.6, 0.7, 0.8)[:ATTEMPTS]):
            live.set_intensity(fraction, DANA)
            levels.append(_taken(store, record_id, "intensity_changed", n, "the level taken"))
            woke = _off_grids(levels[-1].t_s, grids_s)
            grids_s.append(levels[-1].t_s)
            if woke:
                break
        assert _off_grids(levels[-1].t_s, grids_s[:-1]), [e.t_s for e in levels]
        pauses = []
        for n in range(ATTEMPTS):
            live.control("pause", DANA)
            pauses.append(_taken(store, record_id, "paused", n, "the pause taken"))
            if _off_grids(pauses[-1].t_s, grids_s):
                break
            grids_s.append(pauses[-1].t_s)
            live.control("resume", DANA)
            grids_s.append(_taken(store, record_id, "resumed", n, "the resume taken").t_s)
        live.control("stop", DANA)
        assert live.wait(WAIT_S)
    assert (
        levels[-1].data["operator"]["name"] == pauses[-1].data["operator"]["name"] == "Dana Reyes"
    )
    # the pause too: off the step's grid, and off every one a wake left behind
    assert _off_grids(pauses[-1].t_s, grids_s), [e.t_s for e in pauses]
