"""The home app over HTTP: the session log refuses bad input with 422 naming the field, a log
posted twice (an offline queue sent again) is one record, nothing is logged without the phone's
CSRF token or its sign-in, and the clinic side reads the record."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest

from microamp.safety.limits import HOME
from microamp.store.home import home_account, home_sessions
from web.home_served import HOME_PASSWORD, Home, home_on


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


def _csrf(html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture
def phone(home: Home) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=home.url, timeout=30) as client:
        token = _csrf(client.get("/welcome").text)
        made = client.post("/welcome", data={
            "csrf_token": token, "display_name": "Ines", "date_of_birth": "1979-02-03",
            "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
        })  # fmt: skip
        assert made.status_code == 303
        yield client, token


def _log(home: Home, **changes: object) -> dict[str, object]:
    log: dict[str, object] = {
        "uuid": "0c5a1c1e-1111-4a4a-9a9a-000000000001", "protocol": "home-express",
        "hash": "sha256:abc", "on_date": home.days.today.isoformat(), "seconds_done": 240.0,
        "steps_done": [{"index": 0, "label": "platysma", "zone": "neck", "side": "both",
                        "seconds": 30.0}],
        "status": "completed", "cues": 6,
    }  # fmt: skip
    log.update(changes)
    return log


def test_a_log_posted_twice_is_one_record_the_clinic_side_reads(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    first = client.post("/api/sessions", json=_log(home), headers={"X-CSRF-Token": token})
    again = client.post("/api/sessions", json=_log(home), headers={"X-CSRF-Token": token})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        (row,) = home_sessions(db, client_id=account.client_id)
        assert row.device_connected is False and row.mode == "guided"
        assert row.steps_done[0]["label"] == "platysma"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"seconds_done": 5000}, "seconds_done"),
        ({"seconds_done": "long"}, "seconds_done"),
        ({"status": "exploded"}, "status"),
        ({"on_date": "2099-01-01"}, "on_date"),
        ({"uuid": "x"}, "uuid"),
        ({"steps_done": [{"label": "no index"}]}, "steps_done[0]"),
    ],
)
def test_a_bad_log_is_refused_with_422_naming_the_field(
    home: Home, phone: tuple[httpx.Client, str], changes: dict[str, object], field: str
) -> None:
    client, token = phone
    answer = client.post(
        "/api/sessions", json=_log(home, **changes), headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == field
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None and home_sessions(db, client_id=account.client_id) == []


def test_no_log_without_the_csrf_token_or_the_sign_in(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    assert client.post("/api/sessions", json=_log(home)).status_code == 403
    with httpx.Client(base_url=home.url, timeout=30) as stranger:
        token = _csrf(stranger.get("/signin").text)
        refused = stranger.post("/api/sessions", json=_log(home), headers={"X-CSRF-Token": token})
        assert refused.status_code == 401


def test_a_wrong_password_keeps_the_page_and_says_why(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    with httpx.Client(base_url=home.url, timeout=30) as other:
        token = _csrf(other.get("/signin").text)
        answer = other.post("/signin", data={"csrf_token": token, "password": "wrong one"})
        assert answer.status_code == 422
        assert "That is not the password" in answer.text


def test_the_welcome_form_keeps_what_was_typed_and_marks_the_field(home: Home) -> None:
    with httpx.Client(base_url=home.url, timeout=30) as client:
        token = _csrf(client.get("/welcome").text)
        answer = client.post("/welcome", data={
            "csrf_token": token, "display_name": "Rosa", "date_of_birth": "2099-01-01",
            "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
        })  # fmt: skip
        assert answer.status_code == 422
        assert 'value="Rosa"' in answer.text
        assert 'id="date_of_birth-error"' in answer.text


def test_the_service_worker_is_served_from_the_root_with_its_shell(home: Home) -> None:
    with httpx.Client(base_url=home.url, timeout=30) as client:
        worker = client.get("/sw.js")
        assert worker.status_code == 200
        assert worker.headers["content-type"].startswith("text/javascript")
        assert '"/static/home.js"' in worker.text
        manifest = client.get("/manifest.webmanifest").json()
        assert manifest["scope"] == "/" and manifest["display"] == "standalone"
        assert "script-src 'self'" in worker.headers["content-security-policy"]


def test_the_plan_is_a_calendar_file(home: Home, phone: tuple[httpx.Client, str]) -> None:
    client, _token = phone
    ics = client.get("/plan.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.count("BEGIN:VEVENT") > 40
    # every planned day rings from the phone's calendar at 9:00, with the app closed
    calendar = icalendar.Calendar.from_ical(ics.content)
    events = calendar.walk("VEVENT")
    for event in events:
        (alarm,) = event.walk("VALARM")
        assert str(alarm["action"]) == "DISPLAY"
        assert alarm.decoded("trigger") == timedelta(hours=9)
        assert isinstance(event.decoded("dtstart"), date)


def test_the_clinic_reads_a_clients_home_sessions_and_reception_does_not(
    tmp_path: Path,
) -> None:
    from microamp.store.home import create_home_account, record_home_session
    from web.conftest import clinic_on

    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path) as clinic:
        with clinic.store.transaction() as db:
            account = create_home_account(db, display_name="Ines", date_of_birth=date(1979, 2, 3),
                                          password_hash="x", plan_start=date.today(),
                                          today=date.today())  # fmt: skip
            record_home_session(db, account, uuid="home-log-0001", protocol_name="home-express",
                                protocol_hash="sha256:abc", on_date=date.today(),
                                seconds_done=240, steps_done=[{"index": 0, "seconds": 30}],
                                status="completed", cues=6, max_seconds=1200)  # fmt: skip
            client_id = account.client_id
        with clinic.api("practitioner") as api:
            (row,) = api.get(f"/api/v1/clients/{client_id}/home-sessions").json()
            assert row["recorded_as"] == "guided, device not connected"
            assert row["steps_done"][0]["seconds"] == 30
        with clinic.api("reception") as api:
            assert api.get(f"/api/v1/clients/{client_id}/home-sessions").status_code == 403


def test_the_guides_level_only_lowers_and_names_what_is_wrong(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    headers = {"X-CSRF-Token": token}
    assert (
        client.post("/api/levels", json={"zone": "eyes", "level": 0.7}, headers=headers).status_code
        == 200
    )
    raised = client.post("/api/levels", json={"zone": "eyes", "level": 0.9}, headers=headers)
    assert raised.status_code == 422 and raised.json()["detail"][0]["field"] == "level"
    unknown = client.post("/api/levels", json={"zone": "ears", "level": 0.5}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "zone"
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None and account.zone_levels == {"eyes": 0.7}


HOME_TEMPLATES = Path(__file__).parents[2] / "src" / "microamp" / "web" / "templates" / "home"


def test_no_home_template_has_inline_script_style_or_handlers() -> None:
    import re

    found = []
    for template in sorted(HOME_TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>",
                        r"\son[a-z]+=", r"\sstyle=", r"<style"):  # fmt: skip
            found += [f"{template.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []


@pytest.mark.parametrize(
    "path", ["/", "/guide/home-express", "/settings", "/build", "/plan.ics", "/sw.js",
             "/manifest.webmanifest", "/static/home.js"],
)  # fmt: skip
def test_every_home_page_carries_the_strict_policy(
    phone: tuple[httpx.Client, str], path: str
) -> None:
    client, _token = phone
    answer = client.get(path)
    assert answer.status_code == 200, path
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    if not path.startswith("/static/"):
        assert answer.headers["cache-control"] == "no-store"


def test_skipping_every_zone_is_refused_beside_the_field_and_keeps_the_choice(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    zones = ["forehead", "brows", "eyes", "nose", "cheeks", "mouth", "jawline", "chin", "neck"]
    answer = client.post("/settings", data={"csrf_token": token, "skip": zones})
    assert answer.status_code == 422
    assert "leaves no step" in answer.text and 'href="#skip-first"' in answer.text
    assert answer.text.count("checked") >= len(zones)
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None and account.skipped == []


def test_the_builder_keeps_what_was_typed_and_names_the_step_in_error(
    phone: tuple[httpx.Client, str],
) -> None:
    client, token = phone
    answer = client.post("/build", data={"csrf_token": token, "title": "", "cue_interval_s": "5.0",
                                         "muscle-0": "frontalis", "reps-0": "9", "seconds-0": "5.0"})  # fmt: skip
    assert answer.status_code == 422
    assert "Give the routine a name" in answer.text
    answer = client.post("/build", data={"csrf_token": token, "title": "Mine", "cue_interval_s": "5.0",
                                         "muscle-0": "frontalis", "reps-0": "9", "seconds-0": "5.0"})  # fmt: skip
    assert answer.status_code == 422
    assert (
        'id="reps-0-error"' in answer.text and "Step 1: must be one of 1, 2, 3, 4, 5" in answer.text
    )
    assert 'value="Mine"' in answer.text


def test_an_unknown_routine_is_a_page_that_says_so(phone: tuple[httpx.Client, str]) -> None:
    client, _token = phone
    answer = client.get("/guide/no-such-routine")
    assert answer.status_code == 422 and "no home routine by that name" in answer.text


def test_the_guide_caps_the_day_at_the_home_profiles_daily_time_with_its_source(
    phone: tuple[httpx.Client, str],
) -> None:
    client, _token = phone
    html = client.get("/guide/home-express").text
    found = re.search(r'<script type="application/json" id="routine-data">(.*?)</script>', html)
    assert found
    payload = json.loads(found.group(1))

    assert payload["max_daily_s"] == HOME.max_daily_s.value
    assert payload["limit_source"] == HOME.max_daily_s.source
    assert payload["limit_source"] != HOME.max_session_s.source


def test_a_clinic_plan_on_her_record_is_the_regimen_today_and_in_the_calendar_file(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    from microamp.clinic.plans import plan_course
    from microamp.store.home import home_account
    from microamp.store.planning import save_plan

    client, token = phone
    course = plan_course("clinic-initial", start=home.days.today, weekdays=(0, 3), months=2)
    with home.store.transaction() as db:
        account = home_account(db)
        assert account is not None
        save_plan(db, client_id=account.client_id, plan=course)
    assert (
        client.post("/api/sessions", json=_log(home), headers={"X-CSRF-Token": token}).status_code
        == 201
    )
    home.days.advance(3)  # Monday done, Thursday due
    page = client.get("/").text
    assert "Your clinic's plan: twice a week for 6 weeks" in page
    monday, thursday = course.sessions[0].on_date, course.sessions[1].on_date
    assert f'data-date="{monday.isoformat()}" data-kind="done"' in page
    assert f'data-date="{thursday.isoformat()}" data-kind="due"' in page
    # Tuesday and Wednesday are rest days in the clinic's plan, not missed ones
    assert f'data-date="{(monday + timedelta(days=1)).isoformat()}" data-kind="rest"' in page
    ics = icalendar.Calendar.from_ical(client.get("/plan.ics").content)
    assert len(ics.walk("VEVENT")) == len(course.sessions)
