"""`microamp users` administration in a real process on a real SQLite file: disable, enable,
role, reset-password, sessions, end-sessions, remove-two-factor, and the last owner kept."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store import open_store
from microamp.store.access import AuditEntry
from microamp.store.base import utc_now
from microamp.store.config import load_settings
from microamp.store.models import User
from microamp.store.staff_sessions import SessionRules, find_live_session, start_session
from microamp.web.security import verify_password

PASSWORD = "a good long password\n"


def cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microamp", "users", *args, "--database", url],
        input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def add(url: str, email: str, role: str) -> None:
    done = cli(url, "add", email, "--role", role, "--password-stdin", stdin=PASSWORD)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_users_are_administered_from_the_cli_and_each_change_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    add(url, "boss@clinic.example", "owner")
    add(url, "nurse@clinic.example", "practitioner")
    rules = SessionRules(idle_s=1800, lifetime_s=3600)
    with open_store(url, settings=load_settings(data_dir=tmp_path)) as store:
        with store.transaction() as db:
            nurse = db.scalars(select(User).where(User.email == "nurse@clinic.example")).one()
            _, raw_id = start_session(db, user_id=nurse.id, stage="signed_in", address="10.0.0.2",
                                      rules=rules, now=utc_now())  # fmt: skip
    listed = json.loads(cli(url, "sessions", "nurse@clinic.example", "--json").stdout)
    assert [s["address"] for s in listed] == ["10.0.0.2"]
    assert cli(url, "end-sessions", "NURSE@clinic.example").stdout.strip() == (
        "1 session of nurse@clinic.example ended"
    )
    assert cli(url, "role", "nurse@clinic.example", "reception").returncode == 0
    assert cli(url, "disable", "nurse@clinic.example").returncode == 0
    temporary = cli(url, "reset-password", "nurse@clinic.example").stdout.strip()
    assert cli(url, "enable", "nurse@clinic.example").returncode == 0
    made = cli(url, "token", "nurse@clinic.example", "--name", "lab script")
    assert made.returncode == 0 and made.stdout.startswith("mat_")
    with open_store(url, settings=load_settings(data_dir=tmp_path)) as store:
        with store.session() as db:
            nurse = db.scalars(select(User).where(User.email == "nurse@clinic.example")).one()
            assert nurse.role == "reception" and nurse.active and nurse.must_change_password
            assert verify_password(nurse.password_hash, temporary)
            later = utc_now() + timedelta(seconds=1)
            assert find_live_session(db, raw_id, rules=rules, now=later) is None
            actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions == ["staff.sessions_ended", "staff.role", "staff.disable",
                       "staff.password_reset", "staff.enable", "auth.token_created"]  # fmt: skip


@pytest.mark.slow
def test_the_last_owner_is_kept_and_bad_input_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    add(url, "boss@clinic.example", "owner")
    for args in (("disable", "boss@clinic.example"), ("role", "boss@clinic.example", "reception")):
        refused = cli(url, *args)
        assert refused.returncode == 1
        assert "last active owner" in refused.stderr and "Traceback" not in refused.stderr
    assert cli(url, "disable", "nobody@clinic.example").returncode == 2
    bad_role = cli(url, "role", "boss@clinic.example", "boss")
    assert bad_role.returncode == 2 and "role" in bad_role.stderr
    add(url, "second@clinic.example", "owner")
    assert cli(url, "disable", "boss@clinic.example").returncode == 0
    assert cli(url, "remove-two-factor", "second@clinic.example").returncode == 0


def test_working_hours_are_set_from_the_cli_and_bad_ones_name_the_rule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    add(url, "boss@clinic.example", "owner")
    add(url, "desk@clinic.example", "reception")
    done = cli(
        url, "hours", "boss@clinic.example", "mon=09:00-13:00,14:00-18:00", "wed=09:00-13:00"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "boss@clinic.example works Mon 09:00-13:00, 14:00-18:00; Wed 09:00-13:00"
    )
    for args, said in (
        (
            ("mon=13:00-09:00",),
            "working_hours.mon: '13:00-09:00' is not allowed: closes after it opens",
        ),
        (("monday=09:00-13:00",), "working_hours: 'monday' is not allowed: weekdays are"),
        (("mon:09:00-13:00",), "DAY=HH:MM-HH:MM[,HH:MM-HH:MM], each day once"),
        (("mon=09:00-13:00", "--clinic"), "the days' periods, or --clinic, one of the two"),
        ((), "the days' periods, or --clinic, one of the two"),
    ):
        bad = cli(url, "hours", "boss@clinic.example", *args)
        assert bad.returncode == 2, (args, bad.stdout)
        assert said in bad.stderr.replace("\n", " "), (args, bad.stderr)
        assert "Traceback" not in bad.stderr
    reception = cli(url, "hours", "desk@clinic.example", "mon=09:00-13:00")
    assert reception.returncode == 2 and "only owners and practitioners" in reception.stderr
    back = cli(url, "hours", "boss@clinic.example", "--clinic")
    assert back.stdout.strip() == "boss@clinic.example works the clinic's opening hours"
    with open_store(url, settings=load_settings(data_dir=tmp_path)) as store:
        with store.transaction() as db:
            boss = db.scalars(select(User).where(User.email == "boss@clinic.example")).one()
            assert boss.working_hours is None
            changes = db.scalars(
                select(AuditEntry).where(AuditEntry.action == "staff.working_hours")
            ).all()
            assert [e.detail["working_hours"] is None for e in changes] == [False, True]
