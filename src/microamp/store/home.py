"""The home companion's records: the household account, its routines and its sessions.

Plain keyword-only functions on a session; the caller commits. Every write of a home session
and every change to what a person skips leaves an audit row, as the clinic's records do, with
the home account as the actor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microamp.clinic.consent import check_signature
from microamp.clinic.dates import not_in_future
from microamp.clinic.gate import GateDecision
from microamp.errors import InvalidValue, InvalidValues
from microamp.protocols.home_routines import Personalisation, left_out_positions, personalise
from microamp.protocols.library import library_names, load_protocol
from microamp.protocols.schema import Protocol
from microamp.protocols.validate import parse_protocol, plan_protocol
from microamp.safety.limits import get_profile
from microamp.store.access import append_audit
from microamp.store.crud import (
    create_client,
    gate_client,
    get_client,
    latest_form,
    record_consent,
    record_intake,
)
from microamp.store.daily_time import lock_client, seconds_used_on
from microamp.store.home_models import (
    HOME_MODES,
    HOME_STATUSES,
    HomeAccount,
    HomeRoutine,
    HomeSession,
)
from microamp.store.models import HOME_ROLE, ProgressEntry, User
from microamp.store.outcomes import Outcomes, client_outcomes
from microamp.store.photo_blobs import StoredPhoto, entry_photo
from microamp.store.photos import PreparedPhoto, add_progress_entry, prepare_photo

__all__ = [
    "HOME_PHOTO_NOTE",
    "actor_of",
    "add_home_photo",
    "home_photo",
    "check_home_operator",
    "create_home_account",
    "done_days",
    "home_account",
    "home_gate",
    "home_operator",
    "home_outcomes",
    "home_health_answers",
    "record_home_health",
    "home_sessions",
    "home_routines",
    "personal_protocol",
    "record_home_session",
    "save_home_routine",
    "seconds_on",
    "set_preferences",
]

# how a photo she took at home reads on her clinic record
HOME_PHOTO_NOTE = "progress photo taken at home"
_UUID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_STEPS_LOGGED = 200


def actor_of(account: HomeAccount) -> str:
    """Her audit rows' actor: the account alone, never her name, which a sealed row would keep
    after her erasure (`microamp.store.erasure`)."""
    return f"home:{account.id}"


def home_account(session: Session) -> HomeAccount | None:
    """The household's account (one per home app), or None before the first run."""
    return session.scalars(select(HomeAccount).order_by(HomeAccount.id).limit(1)).first()


def create_home_account(
    session: Session,
    *,
    display_name: str,
    date_of_birth: date,
    password_hash: str,
    plan_start: date,
    today: date,
) -> HomeAccount:
    """The first run: the person as a client of this store, and her home account."""
    if home_account(session) is not None:
        raise InvalidValue("account", display_name, "this home app already has its account")
    client = create_client(
        session, full_name=display_name, date_of_birth=date_of_birth, today=today
    )
    account = HomeAccount(
        client_id=client.id, display_name=client.full_name, password_hash=password_hash,
        skipped=[], zone_levels={}, plan_start=plan_start,
    )  # fmt: skip
    session.add(account)
    session.flush()
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource="home_account", client_id=client.id)  # fmt: skip
    return account


def home_operator(session: Session, account: HomeAccount) -> User:
    """The user (role `home`) who operates her device sessions, created on first need: she is
    the operator of her own sessions only (`check_home_operator`), signs in to no clinic page
    (no password; no clinic route admits the role)."""
    if account.operator_id is not None:
        user = session.get(User, account.operator_id)
        if user is not None:
            return user
    user = User(email=f"home-{account.id}@home.microamp.invalid",
                display_name=account.display_name, role=HOME_ROLE, password_hash=None,
                active=True)  # fmt: skip
    session.add(user)
    session.flush()
    account.operator_id = user.id
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource="home_operator", client_id=account.client_id)  # fmt: skip
    return user


def check_home_operator(session: Session, *, operator_id: int, client_id: int) -> None:
    """Raises `InvalidValue` when ``operator_id`` is a home operator and ``client_id`` is not
    her own record; staff are not concerned here (the clinic's own rules apply to them)."""
    user = session.get(User, operator_id)
    if user is None or user.role != HOME_ROLE:
        return
    own = session.scalars(
        select(HomeAccount.client_id).where(HomeAccount.operator_id == user.id)
    ).first()
    if not user.active or own != client_id:
        raise InvalidValue("practitioner_id", operator_id,
                           "a home operator runs sessions for her own record only")  # fmt: skip


def set_preferences(
    session: Session,
    account: HomeAccount,
    *,
    skipped: Sequence[str],
    zone_levels: Mapping[str, float],
) -> None:
    """What the person skips and the level each zone starts from (checked by the caller)."""
    account.skipped = sorted(set(skipped))
    account.zone_levels = {z: float(v) for z, v in sorted(zone_levels.items())}
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource="home_preferences", client_id=account.client_id,
                 detail={"skipped": account.skipped, "zone_levels": account.zone_levels})  # fmt: skip


def save_home_routine(
    session: Session, account: HomeAccount, *, name: str, data: dict[str, Any]
) -> HomeRoutine:
    """A built routine kept under ``name`` (replacing one of that name)."""
    routine = session.scalars(
        select(HomeRoutine).where(HomeRoutine.account_id == account.id, HomeRoutine.name == name)
    ).first()
    if routine is None:
        routine = HomeRoutine(account_id=account.id, name=name, data=data)
        session.add(routine)
    else:
        routine.data = data
    session.flush()
    return routine


def home_routines(session: Session, account: HomeAccount) -> list[HomeRoutine]:
    return list(
        session.scalars(
            select(HomeRoutine)
            .where(HomeRoutine.account_id == account.id)
            .order_by(HomeRoutine.name)
        )
    )


def _base_routine(session: Session, client_id: int, name: str) -> tuple[Protocol, str]:
    """The routine ``name`` as written, and where it is from: a home protocol of the library
    (``library``), else one she built (``mine``), parsed again under the home profile."""
    home = get_profile("home")
    if name in library_names():
        if load_protocol(name).audience != "home":
            raise InvalidValue("protocol", name, "a personalised routine is a home routine")
        return load_protocol(name, home), "library"
    row = session.scalars(
        select(HomeRoutine)
        .join(HomeAccount, HomeAccount.id == HomeRoutine.account_id)
        .where(HomeAccount.client_id == client_id, HomeRoutine.name == name)
    ).first()
    if row is None:
        raise InvalidValue("protocol", name, "no home routine of hers by that name")
    protocol = parse_protocol(row.data, home)
    if protocol.audience != "home":
        raise InvalidValue("protocol", name, "a personalised routine is a home routine")
    return protocol, "mine"


def personal_protocol(
    session: Session, *, client_id: int, name: str, personal: Personalisation
) -> tuple[Protocol, dict[str, Any]]:
    """Her routine ``name`` (a library home routine, or one she built, read from the store) with
    ``personal`` applied, validated under the home profile; and what the record keeps of it
    (the routine, where it is from, what she skipped, the steps left out, her zone levels).

    Raises `InvalidValue` for a routine that is not hers or not a home routine, a personalisation
    that leaves nothing, or one whose result is not the routine she saw (``content_hash``)."""
    home = get_profile("home")
    base, source = _base_routine(session, client_id, name)
    mine = personalise(base, skipped=personal.skipped, zone_levels=personal.levels, profile=home)
    if personal.content_hash and personal.content_hash != mine.content_hash():
        raise InvalidValue("personal.content_hash", personal.content_hash,
                           f"{name} is not the routine shown any more: reload the page")  # fmt: skip
    # by position in the routine as written, by the rule `personalise` left them out with
    positions = left_out_positions(base, skipped=personal.skipped, profile=home)
    planned = plan_protocol(base, home)
    return mine, {
        "routine": name, "title": base.title, "source": source,
        "skipped": list(personal.skipped), "skipped_steps": [planned[i].label for i in positions],
        "skipped_positions": positions, "zone_levels": personal.levels,
    }  # fmt: skip


def record_home_session(
    session: Session,
    account: HomeAccount,
    *,
    uuid: str,
    protocol_name: str,
    protocol_hash: str,
    on_date: date,
    seconds_done: float,
    steps_done: Sequence[Mapping[str, Any]],
    status: str,
    cues: int,
    mode: str = "guided",
    max_seconds: float,
) -> tuple[HomeSession, bool]:
    """The session as the phone reported it, and whether it is new (a log posted again after
    an offline queue is the row already kept). Raises `InvalidValue` naming the field."""
    if not _UUID.fullmatch(uuid):
        raise InvalidValue("uuid", uuid, "8-64 letters, digits or -")
    existing = session.scalars(select(HomeSession).where(HomeSession.uuid == uuid)).first()
    if existing is not None:
        if existing.account_id != account.id:
            raise InvalidValue("uuid", uuid, "belongs to another session")
        return existing, False
    if mode not in HOME_MODES:
        raise InvalidValue("mode", mode, f"one of {', '.join(HOME_MODES)}")
    if status not in HOME_STATUSES:
        raise InvalidValue("status", status, f"one of {', '.join(HOME_STATUSES)}")
    if not 0 <= seconds_done <= max_seconds:
        raise InvalidValue("seconds_done", seconds_done, f"0-{max_seconds:g} s")
    if not 0 <= cues <= 100_000:
        raise InvalidValue("cues", cues, "0-100000")
    if len(steps_done) > MAX_STEPS_LOGGED:
        raise InvalidValue("steps_done", len(steps_done), f"at most {MAX_STEPS_LOGGED} steps")
    steps = [_logged_step(i, s) for i, s in enumerate(steps_done)]
    row = HomeSession(
        uuid=uuid, account_id=account.id, client_id=account.client_id,
        protocol_name=protocol_name[:64], protocol_hash=protocol_hash[:80], mode=mode,
        device_connected=mode == "device", on_date=on_date, seconds_done=float(seconds_done),
        steps_done=steps, status=status, cues=cues,
    )  # fmt: skip
    session.add(row)
    session.flush()
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource=f"home_session/{row.id}", client_id=account.client_id,
                 detail={"mode": mode, "device_connected": row.device_connected})  # fmt: skip
    return row, True


def _logged_step(i: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        index = int(raw["index"])
        seconds = float(raw["seconds"])
        label = str(raw.get("label", ""))[:120]
        side = str(raw.get("side", ""))[:10]
        zone = str(raw.get("zone", ""))[:20]
    except (KeyError, TypeError, ValueError):
        raise InvalidValue(f"steps_done[{i}]", dict(raw), "needs index and seconds") from None
    if index < 0 or not 0 <= seconds <= 7200:
        raise InvalidValue(f"steps_done[{i}]", dict(raw), "index >= 0, seconds 0-7200")
    return {"index": index, "label": label, "zone": zone, "side": side, "seconds": seconds}


def home_sessions(session: Session, *, client_id: int) -> list[HomeSession]:
    """A person's home sessions, newest first: what the clinic side reads."""
    return list(
        session.scalars(
            select(HomeSession)
            .where(HomeSession.client_id == client_id)
            .order_by(HomeSession.on_date.desc(), HomeSession.id.desc())
        )
    )


def seconds_on(session: Session, account: HomeAccount, day: date) -> float:
    """Seconds of her sessions on ``day``: guided logs and device records alike, as the daily
    limit counts them (`microamp.store.daily_time`)."""
    return seconds_used_on(session, client_id=account.client_id, day=day)


def done_days(session: Session, account: HomeAccount) -> set[date]:
    """The days with a session done to its end."""
    return set(
        session.scalars(
            select(HomeSession.on_date).where(
                HomeSession.account_id == account.id, HomeSession.status != "stopped"
            )
        )
    )


# -- her own screening and consent: what the clinic's gate needs, answered by her --------------


def home_health_answers(session: Session, account: HomeAccount) -> dict[str, Any]:
    """The answers of her latest screening (to start a new one from), or none yet."""
    form = latest_form(session, client_id=account.client_id)
    return {} if form is None else dict(form.answers)


def record_home_health(
    session: Session,
    account: HomeAccount,
    *,
    answers: Mapping[str, Any],
    typed_signature: str,
    today: date,
) -> GateDecision:
    """Her answers to the clinic's screening questions, kept as a new version of her intake
    (screened like any other, flags raised the same way), and her consent to the current text,
    signed by typing her name. Returns the gate's decision for ``today``.

    Raises `InvalidValue` (`InvalidValues` for several) naming each question wrong and
    ``typed_signature``; the caller then rolls back, so it is both or neither.
    """
    client = get_client(session, client_id=account.client_id)
    answers = {**answers, "date_of_birth": client.date_of_birth.isoformat()}
    problems: list[InvalidValue] = []
    try:
        check_signature(typed_signature, full_name=client.full_name)
    except InvalidValue as exc:
        problems.append(exc)
    try:
        form = record_intake(session, client_id=client.id, answers=answers, on=today, today=today)
    except InvalidValue as exc:
        problems[:0] = getattr(exc, "errors", [exc])
    if problems:
        raise problems[0] if len(problems) == 1 else InvalidValues(problems)
    consent = record_consent(session, client_id=client.id, typed_signature=typed_signature)
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource=f"client:{client.id}/intake", client_id=client.id,
                 detail={"intake_id": form.id, "outcome": form.outcome,
                         "consent_version": consent.text_version})  # fmt: skip
    return gate_client(session, client_id=client.id, on=today)


def home_gate(session: Session, account: HomeAccount, *, on: date) -> GateDecision:
    """The clinic's gate for her on day ``on``, as for any session."""
    return gate_client(session, client_id=account.client_id, on=on)


def home_outcomes(session: Session, account: HomeAccount) -> Outcomes:
    """Her measured photos (front view) as the clinic's outcome page reads them; the read is
    audited with the home account as the actor."""
    found = client_outcomes(session, client_id=account.client_id, view="front")
    append_audit(session, actor_id=None, actor=actor_of(account), action="read",
                 resource=f"client:{account.client_id}/outcomes", client_id=account.client_id)  # fmt: skip
    return found


def add_home_photo(
    session: Session,
    account: HomeAccount,
    *,
    photo: PreparedPhoto | bytes,
    view: str,
    taken_on: date,
    today: date,
    photo_use_consent: bool,
) -> ProgressEntry:
    """A progress photo she takes at home, kept on her client record as a clinic photo is
    (`add_progress_entry`: a JPEG or PNG within the size and megapixel limits, taken ``today``
    or earlier, measured for its ``view``), so her clinic sees it among her photos. The write is
    audited with the home account as the actor.

    The same photo of the same view sent again (the phone's offline queue resending one whose
    answer it never got) is the entry already kept, not a second one: her row is locked for
    the check, so two tabs sending it at once still keep one."""
    not_in_future("taken_on", taken_on, today=today)
    prepared = photo if isinstance(photo, PreparedPhoto) else prepare_photo(photo, view=view)
    lock_client(session, client_id=account.client_id)
    kept = _same_home_photo(session, account, sha256=prepared.sha256, view=view)
    if kept is not None:
        return kept
    entry = add_progress_entry(
        session, client_id=account.client_id, taken_on=taken_on, today=today, photo=prepared,
        notes=HOME_PHOTO_NOTE, view=view, photo_use_consent=photo_use_consent,
    )  # fmt: skip
    append_audit(session, actor_id=None, actor=actor_of(account), action="write",
                 resource=f"client:{account.client_id}/progress", client_id=account.client_id,
                 detail={"entry_id": entry.id, "view": view})  # fmt: skip
    return entry


def _same_home_photo(
    session: Session, account: HomeAccount, *, sha256: str, view: str
) -> ProgressEntry | None:
    return session.scalars(
        select(ProgressEntry).where(
            ProgressEntry.client_id == account.client_id,
            ProgressEntry.photo_sha256 == sha256,
            ProgressEntry.view == view,
            ProgressEntry.notes == HOME_PHOTO_NOTE,
        )
    ).first()


def home_photo(session: Session, account: HomeAccount, *, entry_id: int) -> StoredPhoto | None:
    """One of her own photos (None for a photo that is not hers, or lost); the read is
    audited."""
    entry = session.get(ProgressEntry, entry_id)
    if entry is None or entry.client_id != account.client_id:
        return None
    stored = entry_photo(session, entry)
    if stored is not None:
        append_audit(session, actor_id=None, actor=actor_of(account), action="read",
                     resource=f"client:{account.client_id}/photo", client_id=account.client_id,
                     detail={"entry_id": entry_id})  # fmt: skip
    return stored
