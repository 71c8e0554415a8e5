"""Stations, their controls and their sessions' live state, as plain functions over a session.

    with store.transaction() as db:
        register_station(db, name="Room 2", device_url="sim://", capabilities={}, holder=h, now=t)
    with store.transaction() as db:                      # a web worker, for an operator
        control_id = request_control(db, station="Room 2", live_id=lid, action="pause", ...)
    ...                                                  # the station takes it and answers
    with store.transaction() as db:
        taken = take_control(db, control_id, now=t)     # compare-and-set: one taker
        answer_control(db, control_id, ok=True, now=t)

A station is online while its heartbeat is fresher than `STALE_S`. `sweep` is what every web
worker and every station runs every `SWEEP_S`: a session whose station stopped beating ends
(its live view says why), and a lapsed device lease's record becomes ``interrupted``. Every
function takes the caller's ORM session and leaves the commit to the caller; ``now`` is passed
in (UTC wall time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.orm import Session

from microamp.errors import InvalidValue
from microamp.store.leases import holder_gone_here
from microamp.store.recovery import interrupt_record
from microamp.store.shared_models import DeviceLease
from microamp.store.station_models import LiveMessage, LiveState, Station, StationControl

__all__ = [
    "CHANNEL",
    "STALE_S",
    "SWEEP_S",
    "ControlAnswer",
    "StationView",
    "abandon_control",
    "answer_control",
    "append_live",
    "control_answer",
    "list_stations",
    "live_messages",
    "live_row",
    "notify_station",
    "open_live",
    "pending_controls",
    "register_station",
    "request_control",
    "running_lives",
    "station_beat",
    "station_off",
    "sweep",
    "take_control",
]

# A station beats every second; one silent for this long is offline and its session over.
STALE_S = 5.0
# How often every worker and station sweeps: so a killed station's session ends within
# STALE_S + SWEEP_S, and its record is interrupted within the lease's ttl + SWEEP_S.
SWEEP_S = 2.0
# PostgreSQL's NOTIFY channel; the payload is the station's name.
CHANNEL = "microamp_station"
# Messages of a session ended this long ago are no longer served live (the record keeps all).
_KEEP_MESSAGES = timedelta(hours=1)
_OFFLINE_AT = datetime(2000, 1, 1, tzinfo=UTC)
_CONTROLS = cast(Table, StationControl.__table__)
_STATIONS = cast(Table, Station.__table__)
_LIVES = cast(Table, LiveState.__table__)
_LEASES = cast(Table, DeviceLease.__table__)
_STATION_GONE = "the station {name} stopped answering; the session ended there"
_LEASE_LAPSED = "the device lease lapsed: its station stopped renewing it"


@dataclass(frozen=True, slots=True)
class StationView:
    """A registered station as the console lists it."""

    name: str
    device_url: str
    device: str
    capabilities: dict[str, Any]
    online: bool
    live_id: str | None
    heartbeat_at: datetime

    @property
    def busy(self) -> bool:
        return self.online and self.live_id is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "device_url": self.device_url, "device": self.device,
            "online": self.online, "busy": self.busy, "live_id": self.live_id,
            "heartbeat_at": self.heartbeat_at.isoformat(),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ControlAnswer:
    """A control's answer: None while unanswered, else whether it was done and what it said."""

    ok: bool | None
    message: str
    answer: dict[str, Any]
    taken: bool


def _online(row: Station, now: datetime) -> bool:
    return now - row.heartbeat_at <= timedelta(seconds=STALE_S)


def _station(db: Session, name: str) -> Station | None:
    found = db.execute(
        select(Station).where(Station.name == name).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return found


def register_station(
    db: Session,
    *,
    name: str,
    device_url: str,
    device: str,
    capabilities: dict[str, Any],
    holder: str,
    now: datetime,
) -> None:
    """Register (or re-register) the station ``name`` for ``device_url`` held by ``holder``.
    Raises `InvalidValue` when another live station has that name or that device."""
    if not name.strip() or len(name) > 120:
        raise InvalidValue("name", name, "a station's name: 1-120 characters")
    for other in db.scalars(select(Station).where(Station.device == device, Station.name != name)):
        if _online(other, now) and not holder_gone_here(other.holder):
            raise InvalidValue("device", device_url, f"the station {other.name} owns it")
    row = _station(db, name)
    taken = row is not None and row.holder != holder and _online(row, now)
    if taken and row is not None and not holder_gone_here(row.holder):
        raise InvalidValue("name", name, "another station of that name is online")
    if row is None:
        row = Station(name=name)
        db.add(row)
    row.device_url, row.device, row.capabilities = device_url, device, capabilities
    row.holder, row.started_at, row.heartbeat_at, row.live_id = holder, now, now, None
    db.flush()


def station_beat(
    db: Session, *, name: str, holder: str, now: datetime, live_id: str | None
) -> bool:
    """The heartbeat of station ``name`` (and the session it runs); False if another holder
    took the name (then this one must stop)."""
    beat = db.execute(
        update(_STATIONS)
        .where(_STATIONS.c.name == name, _STATIONS.c.holder == holder)
        .values(heartbeat_at=now, live_id=live_id)
    ).rowcount  # type: ignore[attr-defined]
    return bool(beat)


def station_off(db: Session, *, name: str, holder: str) -> None:
    """The station is going away: offline at once, not after `STALE_S`."""
    db.execute(
        update(_STATIONS)
        .where(_STATIONS.c.name == name, _STATIONS.c.holder == holder)
        .values(heartbeat_at=_OFFLINE_AT, live_id=None)
    )


def list_stations(db: Session, *, now: datetime) -> list[StationView]:
    """Every registered station, by name, online or not."""
    return [
        StationView(
            r.name,
            r.device_url,
            r.device,
            dict(r.capabilities),
            _online(r, now),
            r.live_id,
            r.heartbeat_at,
        )  # fmt: skip
        for r in db.scalars(select(Station).order_by(Station.name))
    ]


def notify_station(db: Session, name: str) -> None:
    """Wake station ``name`` at once (PostgreSQL, on commit); others poll."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_notify(:channel, :name)"), {"channel": CHANNEL, "name": name})


# -- controls --------------------------------------------------------------------------------


def request_control(
    db: Session,
    *,
    station: str,
    live_id: str,
    action: str,
    value: dict[str, Any],
    operator: tuple[str, int | None, str],
    now: datetime,
) -> int:
    """A control for ``station`` in the name of ``operator`` (name, user id, via); its id. The
    station is woken on commit (PostgreSQL)."""
    name, user_id, via = operator
    row = StationControl(
        station=station, live_id=live_id, action=action, value=value, operator_name=name,
        operator_id=user_id, operator_via=via, requested_at=now, message="", answer={},
    )  # fmt: skip
    db.add(row)
    db.flush()
    notify_station(db, station)
    return row.id


def pending_controls(db: Session, *, station: str) -> Sequence[StationControl]:
    """The controls ``station`` has not taken yet, oldest first."""
    return db.scalars(
        select(StationControl)
        .where(StationControl.station == station, StationControl.taken_at.is_(None))
        .order_by(StationControl.id)
    ).all()


def take_control(db: Session, control_id: int, *, now: datetime) -> bool:
    """Whether this caller took control ``control_id`` (compare-and-set: one taker, and never
    one the operator's side gave up on)."""
    taken = db.execute(
        update(_CONTROLS)
        .where(_CONTROLS.c.id == control_id, _CONTROLS.c.taken_at.is_(None))
        .values(taken_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return bool(taken)


def answer_control(
    db: Session,
    control_id: int,
    *,
    ok: bool,
    now: datetime,
    message: str = "",
    answer: dict[str, Any] | None = None,
) -> None:
    db.execute(
        update(_CONTROLS)
        .where(_CONTROLS.c.id == control_id)
        .values(answered_at=now, ok=ok, message=message, answer=answer or {})
    )


def abandon_control(db: Session, control_id: int, *, now: datetime, message: str) -> bool:
    """Give up on a control no station took (refused with ``message``); False if one took it
    meanwhile, and then its answer is still to come."""
    given_up = db.execute(
        update(_CONTROLS)
        .where(_CONTROLS.c.id == control_id, _CONTROLS.c.taken_at.is_(None))
        .values(taken_at=now, answered_at=now, ok=False, message=message)
    ).rowcount  # type: ignore[attr-defined]
    return bool(given_up)


def control_answer(db: Session, control_id: int) -> ControlAnswer:
    row = db.execute(
        select(StationControl)
        .where(StationControl.id == control_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    ok = row.ok if row.answered_at is not None else None
    return ControlAnswer(ok, row.message, dict(row.answer or {}), row.taken_at is not None)


# -- live state ------------------------------------------------------------------------------


def open_live(db: Session, live: LiveState) -> None:
    db.add(live)
    db.flush()


def live_row(db: Session, live_id: str) -> LiveState | None:
    found = db.execute(
        select(LiveState).where(LiveState.id == live_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return found


def running_lives(db: Session) -> Sequence[LiveState]:
    return db.scalars(
        select(LiveState).where(LiveState.done.is_(False)).order_by(LiveState.started_at)
    ).all()


def append_live(
    db: Session,
    live_id: str,
    *,
    now: datetime,
    messages: Sequence[tuple[str, dict[str, Any]]] = (),
    **values: Any,
) -> bool:
    """Append ``messages`` (name, data) to the live view of ``live_id`` and set ``values``
    (state, status, record_id, done, error); False once it is done (the sweep ended it)."""
    row = db.execute(
        select(LiveState).where(LiveState.id == live_id).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.done:
        return False
    for offset, (name, data) in enumerate(messages):
        db.add(LiveMessage(live_id=live_id, seq=row.message_count + offset, name=name, data=data))
    row.message_count += len(messages)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    db.flush()
    return True


def live_messages(
    db: Session, live_id: str, cursor: int, *, limit: int = 500
) -> list[tuple[int, str, dict[str, Any]]]:
    """The messages of ``live_id`` from ``cursor`` on: (seq, name, data)."""
    rows = db.execute(
        select(LiveMessage.seq, LiveMessage.name, LiveMessage.data)
        .where(LiveMessage.live_id == live_id, LiveMessage.seq >= cursor)
        .order_by(LiveMessage.seq)
        .limit(limit)
    ).all()
    return [(seq, name, dict(data)) for seq, name, data in rows]


# -- the sweep -------------------------------------------------------------------------------


def sweep(db: Session, *, now: datetime) -> dict[str, list[Any]]:
    """End what nobody vouches for any more: the sessions of stations gone silent, and the
    records of lapsed device leases (``interrupted``); drop old live messages. Returns the live
    ids ended and the record ids interrupted."""
    ended = _end_orphaned_lives(db, now)
    interrupted = _interrupt_lapsed(db, now)
    done_before = now - _KEEP_MESSAGES
    old = select(LiveState.id).where(LiveState.done.is_(True), LiveState.updated_at < done_before)
    db.execute(delete(LiveMessage).where(LiveMessage.live_id.in_(old)))
    return {"ended": ended, "interrupted": interrupted}


def _end_orphaned_lives(db: Session, now: datetime) -> list[str]:
    # A running session's station writes its live state every fraction of a second; one not
    # written for STALE_S has no station behind it, even if a station of that name (restarted)
    # beats again.
    ended = []
    for live in running_lives(db):
        if now - live.updated_at <= timedelta(seconds=STALE_S):
            continue
        error = _STATION_GONE.format(name=live.station)
        status = (
            live.status if live.status in ("completed", "stopped", "aborted") else "interrupted"
        )
        if append_live(db, live.id, now=now, messages=[("end", {"status": status, "error": error})],
                       done=True, error=error, status=status):  # fmt: skip
            ended.append(live.id)
    return ended


def _interrupt_lapsed(db: Session, now: datetime) -> list[int]:
    interrupted = []
    for lease in db.scalars(select(DeviceLease)).all():
        if lease.expires_at > now and not holder_gone_here(lease.holder):
            continue
        gone = db.execute(
            delete(_LEASES).where(
                _LEASES.c.device == lease.device, _LEASES.c.holder == lease.holder
            )  # fmt: skip
        ).rowcount  # type: ignore[attr-defined]
        if gone and lease.session_id is not None:
            if interrupt_record(db, lease.session_id, now=now, reason=_LEASE_LAPSED):
                interrupted.append(lease.session_id)
    return interrupted
