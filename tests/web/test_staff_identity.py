"""Staff identity end to end on the served app: sessions in the store (sign-out, idle timeout,
ending a user's sessions), staff administration (disable, roles, the last owner, password
resets), two-factor sign-in (enrolment, replay, recovery codes, the clinic's policy), the
throttle under concurrent guesses, and X-Forwarded-For from untrusted peers."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select

from microamp.store.access import AuditEntry, create_api_token
from microamp.store.base import utc_now
from microamp.store.crud import create_user
from microamp.store.models import User
from microamp.store.scratch import scratch_schema
from microamp.web.security import hash_password
from support.databases import PG_ENV, SKIP_REASON
from web.conftest import PASSWORD, Clinic, clinic_on, csrf_of, sign_in


class WallClock:
    """A wall clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def clock() -> WallClock:
    return WallClock()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, clock: WallClock) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("identity")
    url = f"sqlite:///{data_dir / 'clinic.db'}"
    with clinic_on(url, data_dir, wall_clock=clock, session_idle_s=600) as clinic:
        yield clinic


_made = iter(range(1, 10_000))
_open: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def fresh(clinic: Clinic) -> httpx.Client:
    """An anonymous browser, closed after the test."""
    client = clinic.browser_client()
    _open.append(client)
    return client


def add_user(clinic: Clinic, role: str = "practitioner") -> str:
    """A new user of ``role`` with the test password; their address."""
    email = f"{role}{next(_made)}@staff.example"
    with clinic.store.transaction() as db:
        create_user(db, email=email, display_name=email.split("@")[0], role=role,
                    password_hash=hash_password(PASSWORD))  # fmt: skip
    return email


def signed_in(clinic: Clinic, email: str, password: str = PASSWORD) -> httpx.Client:
    client = fresh(clinic)
    response = sign_in(client, email, password)
    assert response.status_code == 303, response.text
    return client


def post(client: httpx.Client, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    """A form post with the CSRF token of the page at ``path`` (or of the account page)."""
    source = client.get("/account" if client.get("/account").status_code == 200 else "/signin")
    token = _token(client) or csrf_of(source.text)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _token(client: httpx.Client) -> str | None:
    for path in ("/account", "/signin/code", "/account/password", "/account/two-factor"):
        response = client.get(path)
        if response.status_code == 200 and 'name="csrf_token"' in response.text:
            return csrf_of(response.text)
    return None


def user_id(clinic: Clinic, email: str) -> int:
    with clinic.store.session() as db:
        return db.scalars(select(User.id).where(User.email == email)).one()


def audit_rows(clinic: Clinic, action: str) -> list[AuditEntry]:
    with clinic.store.session() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# -- sessions ----------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_opens_nothing_after(served: Clinic) -> None:
    client = signed_in(served, add_user(served))
    copied = client.cookies["microamp_session"]
    assert client.get("/clients").status_code == 200
    assert post(client, "/signout").status_code == 303
    thief = fresh(served)
    thief.cookies.set("microamp_session", copied)
    refused = thief.get("/clients")
    assert refused.status_code == 303 and refused.headers["location"].startswith("/signin")
    assert audit_rows(served, "auth.signout")


def test_the_cookie_carries_only_a_session_id_never_stored_as_is(served: Clinic) -> None:
    from microamp.store.staff_sessions import StaffSession
    from microamp.web.security import SessionSigner

    client = signed_in(served, add_user(served))
    payload = SessionSigner("k" * 40, max_age_s=3600).loads(client.cookies["microamp_session"])
    assert payload is not None and set(payload) == {"sid", "iat"}
    with served.store.session() as db:
        hashes = set(db.scalars(select(StaffSession.id_hash)))
    assert payload["sid"] not in hashes


def test_a_session_left_idle_past_the_timeout_ends(served: Clinic, clock: WallClock) -> None:
    client = signed_in(served, add_user(served))
    clock.advance(590)
    assert client.get("/clients").status_code == 200  # a request within the timeout
    clock.advance(590)
    assert client.get("/clients").status_code == 200  # each request moves the idle time on
    clock.advance(601)
    assert client.get("/clients").status_code == 303
    assert audit_rows(served, "auth.session_ended")[-1].detail["outcome"] == "idle"


def test_a_session_ends_at_its_lifetime_however_busy(served: Clinic, clock: WallClock) -> None:
    client = signed_in(served, add_user(served))
    for _ in range(12 * 6):  # every 10 minutes for 12 hours
        clock.advance(600)
        if client.get("/").status_code != 200:
            break
    assert client.get("/").status_code == 303


def test_an_owner_ends_every_session_of_a_user(served: Clinic) -> None:
    email = add_user(served)
    laptop, phone = signed_in(served, email), signed_in(served, email)
    owner = signed_in(served, served.emails["owner"])
    assert email in owner.get("/staff").text
    ended = post(owner, f"/staff/{user_id(served, email)}/end-sessions")
    assert ended.status_code == 303
    assert laptop.get("/").status_code == 303 and phone.get("/").status_code == 303
    said = owner.get(ended.headers["location"]).text
    assert f"Every session of {email} has ended." in said
    assert owner.get("/").status_code == 200
    assert audit_rows(served, "staff.sessions_ended")[-1].detail["sessions"] == 2


def test_sign_out_everywhere_ends_the_users_other_sessions_too(served: Clinic) -> None:
    email = add_user(served)
    laptop, phone = signed_in(served, email), signed_in(served, email)
    assert "Where you are signed in" in phone.get("/account").text
    assert post(phone, "/account/sign-out-everywhere").status_code == 303
    assert laptop.get("/").status_code == 303 and phone.get("/").status_code == 303


# -- administration ----------------------------------------------------------------------------


def test_disabling_a_user_takes_effect_at_their_next_request(served: Clinic) -> None:
    email = add_user(served)
    browser = signed_in(served, email)
    with served.store.transaction() as db:
        token = create_api_token(db, user_id=user_id(served, email), name="t")[1]
    api = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"})
    _open.append(api)
    assert api.get("/api/v1/me").status_code == 200
    owner = signed_in(served, served.emails["owner"])
    uid = user_id(served, email)
    assert post(owner, f"/staff/{uid}/active", {"active": "false"}).status_code == 303
    assert browser.get("/").status_code == 303
    assert api.get("/api/v1/me").status_code == 401
    assert sign_in(fresh(served), email, PASSWORD).status_code == 401
    assert post(owner, f"/staff/{uid}/active", {"active": "true"}).status_code == 303
    assert api.get("/api/v1/me").status_code == 200
    assert [r.detail["outcome"] for r in audit_rows(served, "staff.disable")] == ["ok"]


def test_the_last_active_owner_cannot_be_disabled_or_demoted(tmp_path: Path) -> None:
    with clinic_on(f"sqlite:///{tmp_path / 'c.db'}", tmp_path) as clinic:
        owner = signed_in(clinic, clinic.emails["owner"])
        me = user_id(clinic, clinic.emails["owner"])
        refused = post(owner, f"/staff/{me}/active", {"active": "false"})
        assert refused.status_code == 409 and "last active owner" in refused.text
        assert post(owner, f"/staff/{me}/role", {"role": "reception"}).status_code == 409
        second = user_id(clinic, clinic.emails["practitioner"])
        assert post(owner, f"/staff/{second}/role", {"role": "owner"}).status_code == 303
        assert post(owner, f"/staff/{me}/role", {"role": "practitioner"}).status_code == 303
        # now the other one is the last owner
        other = signed_in(clinic, clinic.emails["practitioner"])
        assert post(other, f"/staff/{second}/active", {"active": "false"}).status_code == 409
        assert owner.get("/staff").status_code == 403


def test_staff_pages_are_the_owners_alone(served: Clinic) -> None:
    for role in ("practitioner", "reception"):
        client = signed_in(served, served.emails[role])
        assert client.get("/staff").status_code == 403
        assert post(client, "/staff", {"email": "x@y.example"}).status_code == 403


def test_an_owner_adds_a_user_who_must_choose_a_password_at_first_sign_in(served: Clinic) -> None:
    owner = signed_in(served, served.emails["owner"])
    page = post(owner, "/staff", {"email": "new.hire@staff.example", "display_name": "New Hire",
                                  "role": "reception"})  # fmt: skip
    assert page.status_code == 200
    temporary = re.search(r'data-testid="temporary-password">([^<]+)<', page.text)
    assert temporary
    hire = signed_in(served, "new.hire@staff.example", temporary.group(1))
    assert hire.get("/clients").headers["location"] == "/account/password?next=/clients"
    bad = post(hire, "/account/password",
               {"current": temporary.group(1), "new": "short", "again": "short"})  # fmt: skip
    assert bad.status_code == 422 and "There is a problem" in bad.text
    done = post(hire, "/account/password", {"current": temporary.group(1),
                "new": "my own long password", "again": "my own long password"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert hire.get("/clients").status_code == 200
    refused = post(owner, "/staff", {"email": "new.hire@staff.example", "role": "reception"})
    assert refused.status_code == 422 and "another user has this address" in refused.text


def test_a_password_reset_ends_sessions_unlocks_and_asks_for_a_new_one(served: Clinic) -> None:
    email = add_user(served, "reception")
    before = signed_in(served, email)
    stranger = fresh(served)
    for _ in range(8):  # someone else guesses until the account must wait
        sign_in(stranger, email, "not it")
    assert sign_in(fresh(served), email, PASSWORD).status_code == 429
    owner = signed_in(served, served.emails["owner"])
    page = post(owner, f"/staff/{user_id(served, email)}/reset-password")
    temporary = re.search(r'data-testid="temporary-password">([^<]+)<', page.text)
    assert temporary
    assert before.get("/").status_code == 303
    assert sign_in(fresh(served), email, PASSWORD).status_code == 401
    after = signed_in(served, email, temporary.group(1))
    assert after.get("/").headers["location"] == "/account/password"


def test_a_user_changes_their_own_password_with_the_current_one(served: Clinic) -> None:
    email = add_user(served)
    other, here = signed_in(served, email), signed_in(served, email)
    wrong = post(here, "/account/password",
                 {"current": "not mine", "new": "a brand new password", "again": "a brand new password"})  # fmt: skip
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    done = post(here, "/account/password",
                {"current": PASSWORD, "new": "a brand new password", "again": "a brand new password"})  # fmt: skip
    assert done.status_code == 303
    assert here.get("/").status_code == 200 and other.get("/").status_code == 303
    assert signed_in(served, email, "a brand new password").get("/").status_code == 200


# -- two-factor --------------------------------------------------------------------------------


def enrol(clinic: Clinic, client: httpx.Client, clock: WallClock) -> tuple[str, list[str]]:
    """Turn on two-factor for the signed-in client; the secret and the recovery codes."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "<svg" in page.text and "otpauth://totp/" in page.text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret
    code = pyotp.TOTP(secret.group(1)).at(clock())
    done = client.post("/account/two-factor", data={"code": code, "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", done.text)
    assert len(codes) == 10
    return secret.group(1), codes


def second_step(client: httpx.Client, code: str) -> httpx.Response:
    page = client.get("/signin/code")
    return client.post("/signin/code", data={"code": code, "csrf_token": csrf_of(page.text)})


def test_two_factor_enrol_sign_in_replay_and_recovery_codes(
    served: Clinic, clock: WallClock
) -> None:
    email = add_user(served)
    secret, codes = enrol(served, signed_in(served, email), clock)
    totp = pyotp.TOTP(secret)
    clock.advance(30)
    first = fresh(served)
    assert sign_in(first, email, PASSWORD).headers["location"] == "/signin/code"
    assert first.get("/clients").headers["location"] == "/signin/code?next=/clients"
    assert (
        second_step(first, "123 456" if totp.at(clock()) != "123456" else "654321").status_code
        == 401
    )
    code = totp.at(clock())
    assert second_step(first, code).status_code == 303
    assert first.get("/clients").status_code == 200
    # the same code again, within its 30 s, from another browser: refused
    replay = fresh(served)
    sign_in(replay, email, PASSWORD)
    again = second_step(replay, code)
    assert again.status_code == 401 and "used already" in again.text
    # a recovery code opens one sign-in, once
    assert second_step(replay, codes[3].upper()).status_code == 303
    third = fresh(served)
    sign_in(third, email, PASSWORD)
    assert second_step(third, codes[3]).status_code == 401
    clock.advance(30)
    assert second_step(third, totp.at(clock())).status_code == 303
    assert {r.detail["outcome"] for r in audit_rows(served, "auth.2fa_failed")} >= {
        "wrong code",
        "code used before",
    }
    assert audit_rows(served, "auth.recovery_used")


def test_the_second_step_is_throttled_too(served: Clinic, clock: WallClock) -> None:
    email = add_user(served)
    enrol(served, signed_in(served, email), clock)
    client = fresh(served)
    sign_in(client, email, PASSWORD)
    statuses = [second_step(client, "000000").status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]


def test_a_clinic_that_requires_two_factor_sends_clinical_roles_to_enrol(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    with clinic_on(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, wall_clock=clock) as clinic:
        owner = signed_in(clinic, clinic.emails["owner"])
        assert post(owner, "/staff/two-factor-policy", {"required": "true"}).status_code == 303
        practitioner = signed_in(clinic, clinic.emails["practitioner"])
        assert practitioner.get("/clients").headers["location"] == (
            "/account/two-factor?next=/clients"
        )
        enrol(clinic, practitioner, clock)
        assert practitioner.get("/clients").status_code == 200
        reception = signed_in(clinic, clinic.emails["reception"])
        assert reception.get("/clients").status_code == 200


# -- the throttle and the client's address -----------------------------------------------------


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def slow_to_forgive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Clinic]:
    """A clinic whose throttle makes the try after the free ones wait 10 minutes."""
    data_dir = tmp_path_factory.mktemp("throttle")
    wait = {"signin_delay_base_s": 600, "signin_max_failures_per_ip": 10_000}
    if request.param == "sqlite":
        with clinic_on(f"sqlite:///{data_dir / 'c.db'}", data_dir, **wait) as clinic:
            yield clinic
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    with scratch_schema(base, prefix="test") as url, clinic_on(url, data_dir, **wait) as clinic:
        yield clinic


def test_a_hundred_concurrent_guesses_check_no_more_passwords_than_the_limit(
    slow_to_forgive: Clinic,
) -> None:
    clinic = slow_to_forgive
    email = add_user(clinic)
    clients = [fresh(clinic) for _ in range(100)]
    tokens = [csrf_of(c.get("/signin").text) for c in clients]
    start = threading.Barrier(100)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        start.wait()
        body = {"email": email, "password": f"guess {n}", "csrf_token": tokens[n]}
        status = clients[n].post("/signin", data=body).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    checked = [r for r in audit_rows(clinic, "auth.signin_failed")
               if r.actor == email and r.detail["outcome"] == "wrong password"]  # fmt: skip
    assert len(statuses) == 100
    assert statuses.count(401) == len(checked) <= 5
    assert statuses.count(429) == 100 - len(checked)
    assert len(checked) == 5  # the free tries were all used, none lost to the race


def test_forwarded_for_is_ignored_from_a_peer_that_is_no_trusted_proxy(served: Clinic) -> None:
    email = add_user(served)
    client = fresh(served)
    token = csrf_of(client.get("/signin").text)
    client.post("/signin", data={"email": email, "password": "no", "csrf_token": token},
                headers={"X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    rows = [r for r in audit_rows(served, "auth.signin_failed") if r.actor == email]
    assert [r.detail["address"] for r in rows] == ["127.0.0.1"]


def test_forwarded_for_is_believed_from_a_trusted_proxy(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'c.db'}"
    with clinic_on(db_url, tmp_path, trusted_proxies="127.0.0.0/8, ::1") as clinic:
        client = fresh(clinic)
        token = csrf_of(client.get("/signin").text)
        client.post("/signin", data={"email": "a@b.example", "password": "no", "csrf_token": token},
                    headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})  # fmt: skip
        rows = audit_rows(clinic, "auth.signin_failed")
        assert [r.detail["address"] for r in rows] == ["203.0.113.9"]


def test_static_files_neither_look_the_session_up_nor_touch_the_cookie(served: Clinic) -> None:
    client = signed_in(served, add_user(served))
    response = client.get("/static/microamp.css")
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert client.get("/static/nothing.css").status_code == 404
    assert client.get("/clients").status_code == 200


# -- the page asked for before signing in ------------------------------------------------------


def _location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _follow_form(client: httpx.Client, location: str, data: dict[str, str]) -> httpx.Response:
    """Open a step's page at ``location`` and post its form, with what the page carried."""
    page = client.get(location)
    assert page.status_code == 200, page.text
    carried = re.search(r'name="next" value="([^"]*)"', page.text)
    form = {**data, "csrf_token": csrf_of(page.text)}
    if carried:
        form["next"] = carried.group(1)
    return client.post(location.split("?")[0], data=form)


def test_the_page_asked_for_survives_password_two_factor_and_a_new_password(
    served: Clinic, clock: WallClock
) -> None:
    email = add_user(served)
    secret, _ = enrol(served, signed_in(served, email), clock)
    with served.store.transaction() as db:
        db.get_one(User, user_id(served, email)).must_change_password = True
    clock.advance(30)
    client = fresh(served)
    wanted = f"/clients/{served.clients['cleared']}"
    asked = _location(client.get(wanted))
    assert asked == f"/signin?next={wanted}"
    form = client.get(asked)
    assert f'name="next" value="{wanted}"' in form.text
    step = _location(client.post("/signin", data={"email": email, "password": PASSWORD,
                                                  "next": wanted, "csrf_token": csrf_of(form.text)}))  # fmt: skip
    assert step == f"/signin/code?next={wanted}"
    step = _location(_follow_form(client, step, {"code": pyotp.TOTP(secret).at(clock())}))
    assert step == f"/account/password?next={wanted}"
    new = "a password of my own"
    landed = _location(_follow_form(client, step, {"current": PASSWORD, "new": new, "again": new}))
    assert landed == wanted
    assert client.get(landed).status_code == 200


def test_a_clinic_requiring_two_factor_returns_to_the_page_after_enrolment(
    tmp_path: Path,
) -> None:
    clock = WallClock()
    with clinic_on(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, wall_clock=clock) as clinic:
        owner = signed_in(clinic, clinic.emails["owner"])
        assert post(owner, "/staff/two-factor-policy", {"required": "true"}).status_code == 303
        client = fresh(clinic)
        token = csrf_of(client.get("/signin").text)
        step = _location(client.post("/signin", data={
            "email": clinic.emails["practitioner"], "password": PASSWORD,
            "next": "/protocols", "csrf_token": token}))  # fmt: skip
        assert step == "/account/two-factor?next=/protocols"
        page = client.get(step)
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text)
        assert secret
        done = _follow_form(client, step, {"code": pyotp.TOTP(secret.group(1)).at(clock())})
        assert done.status_code == 200 and 'href="/protocols">Continue<' in done.text


HOSTILE_NEXT = [
    "//evil.example/",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/%0a/x\r\nSet-Cookie: a=b",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_no_next_sends_a_signed_in_browser_to_another_site(served: Clinic, target: str) -> None:
    client = fresh(served)
    form = client.get("/signin", params={"next": target})
    assert 'name="next" value="/"' in form.text
    done = client.post("/signin", data={"email": served.emails["reception"], "password": PASSWORD,
                                        "next": target, "csrf_token": csrf_of(form.text)})  # fmt: skip
    assert _location(done) == "/"
    assert _location(client.get("/signin", params={"next": target})) == "/"


# -- the user's own two-factor -----------------------------------------------------------------


def test_a_user_makes_new_recovery_codes_and_the_old_ones_stop_working(
    served: Clinic, clock: WallClock
) -> None:
    email = add_user(served)
    client = signed_in(served, email)
    _, old = enrol(served, client, clock)
    assert post(client, "/account/recovery-codes", {"codes_proof": "not it"}).status_code == 422
    renewed = post(client, "/account/recovery-codes", {"codes_proof": PASSWORD})
    assert renewed.status_code == 200 and "Your old codes no longer work" in renewed.text
    new = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", renewed.text)
    assert len(new) == 10 and not set(new) & set(old)
    again = fresh(served)
    sign_in(again, email, PASSWORD)
    assert second_step(again, old[0]).status_code == 401
    assert second_step(again, new[0]).status_code == 303
    assert audit_rows(served, "auth.recovery_codes_renewed")[-1].actor == email


def test_a_user_turns_two_factor_off_with_a_current_code(served: Clinic, clock: WallClock) -> None:
    email = add_user(served)
    client = signed_in(served, email)
    secret, _ = enrol(served, client, clock)
    clock.advance(30)
    wrong = post(client, "/account/two-factor/off", {"off_proof": "000000"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    done = post(client, "/account/two-factor/off", {"off_proof": pyotp.TOTP(secret).at(clock())})
    assert done.status_code == 303
    assert "Two-factor sign-in is off" in client.get(done.headers["location"]).text
    assert sign_in(fresh(served), email, PASSWORD).headers["location"] == "/"
    assert audit_rows(served, "auth.2fa_turned_off")[-1].actor == email


def test_two_factor_stays_on_where_the_clinic_requires_it_for_the_role(tmp_path: Path) -> None:
    clock = WallClock()
    with clinic_on(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, wall_clock=clock) as clinic:
        owner = signed_in(clinic, clinic.emails["owner"])
        assert post(owner, "/staff/two-factor-policy", {"required": "true"}).status_code == 303
        practitioner = signed_in(clinic, clinic.emails["practitioner"])
        enrol(clinic, practitioner, clock)
        refused = post(practitioner, "/account/two-factor/off", {"off_proof": PASSWORD})
        assert refused.status_code == 409 and "requires two-factor" in refused.text
        assert practitioner.get("/clients").status_code == 200
        reception = signed_in(clinic, clinic.emails["reception"])
        enrol(clinic, reception, clock)
        assert (
            post(reception, "/account/two-factor/off", {"off_proof": PASSWORD}).status_code == 303
        )
