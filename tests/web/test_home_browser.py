"""The home app in chromium at a phone's 390 x 844: the first run, a guided routine whose cues
are counted from the page's own audio scheduling, a zone skipped, guide mode reloaded offline
from the service worker, and a streak over three simulated days that a missed day breaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from microamp.store.home import home_sessions
from microamp.store.home_models import HomeAccount, HomeSession
from web.browsing import CHROMIUM, launch_chromium
from web.home_served import Home, build_quick_routine, first_run, home_on, run_to_the_end

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium(["--autoplay-policy=no-user-gesture-required"]) as launched:
        yield launched


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with home_on(tmp_path) as served:
        yield served


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def test_the_first_run_creates_the_household_account_and_opens_today(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.get_by_test_id("streak")).to_have_text("0 days")
    expect(
        page.get_by_role("link", name="Guide me: Home express (about 5 minutes)")
    ).to_be_visible()
    with home.store.transaction() as db:
        account = db.scalars(select(HomeAccount)).one()
        assert account.display_name == "Maria Silva"
        assert account.plan_start == home.days.today
    # a second visit to the first-run page goes to today: there is one account per home app
    page.goto(f"{home.url}/welcome")
    expect(page).to_have_url(f"{home.url}/")


def test_a_guided_routine_schedules_a_cue_every_interval_and_logs_the_steps_done(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    build_quick_routine(page, home)
    run_to_the_end(page)
    cues = json.loads(page.locator("#guide").get_attribute("data-cues") or "[]")
    assert cues == [1.0, 2.0, 3.0, 4.0]
    expect(page.locator("#log-status")).to_contain_text("guided, device not connected")
    with home.store.transaction() as db:
        account = db.scalars(select(HomeAccount)).one()
        (logged,) = home_sessions(db, client_id=account.client_id)
        assert (logged.mode, logged.device_connected, logged.status) == (
            "guided",
            False,
            "completed",
        )
        assert logged.cues == 4 and logged.protocol_name == "my-quick"
        assert [(s["index"], s["seconds"]) for s in logged.steps_done] == [(0, 2.0), (1, 2.0)]
        assert logged.steps_done[0]["label"].lower().startswith("procerus")
        assert logged.on_date == home.days.today


def test_pausing_takes_back_the_cues_not_yet_heard_and_schedules_them_again(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    build_quick_routine(page, home)
    guide = page.locator("#guide")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(
        "() => JSON.parse(document.getElementById('guide').dataset.cues).length >= 1"
    )
    expect(page.locator("#start")).to_be_hidden()
    expect(page.locator("#resume")).to_be_hidden()
    expect(page.get_by_role("button", name="End now")).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    expect(guide).to_have_attribute("data-state", "paused")
    expect(page.locator("#pause")).to_be_hidden()
    expect(page.get_by_role("button", name="End now")).to_be_visible()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Resume").click()
    expect(guide).to_have_attribute("data-state", "completed", timeout=30_000)
    assert json.loads(guide.get_attribute("data-cues") or "[]") == [1.0, 2.0, 3.0, 4.0]


def test_a_skipped_zone_is_left_out_of_every_routine_and_remembered(page: Page, home: Home) -> None:
    first_run(page, home)
    page.goto(f"{home.url}/guide/home-express")
    steps = page.locator("#steps li")
    before = steps.count()
    expect(steps.filter(has_text="occipitofrontalis")).to_have_count(1)
    page.goto(f"{home.url}/settings")
    page.get_by_role("checkbox", name="Forehead", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_role("checkbox", name="Forehead", exact=True)).to_be_checked()
    page.goto(f"{home.url}/guide/home-express")
    expect(steps).to_have_count(before - 1)
    expect(steps.filter(has_text="occipitofrontalis")).to_have_count(0)


def test_guide_mode_reloaded_offline_still_runs_and_sends_its_log_when_back_online(
    context: BrowserContext, page: Page, home: Home
) -> None:
    first_run(page, home)
    build_quick_routine(page, home)
    page.wait_for_function("() => document.documentElement.dataset.offlineReady === 'true'")
    context.set_offline(True)
    page.reload()
    guide = page.locator("#guide")
    expect(guide).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Start").click()
    expect(guide).to_have_attribute("data-state", "completed", timeout=30_000)
    expect(guide).to_have_attribute("data-logged", "queued")
    expect(page.locator("#log-status")).to_contain_text("sent when you are back online")
    with home.store.transaction() as db:
        assert db.scalars(select(HomeSession)).all() == []
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => localStorage.getItem('microamp-home-queue') === '[]'")
    with home.store.transaction() as db:
        (logged,) = db.scalars(select(HomeSession)).all()
        assert logged.device_connected is False and logged.cues == 4


def test_a_session_log_kept_for_another_account_on_this_phone_is_never_sent_for_her(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    other = {"uuid": "someone-else", "account": "999", "protocol": "home-express", "hash": "",
             "mode": "guided", "on_date": home.days.today.isoformat(), "seconds_done": 60,
             "steps_done": 2, "status": "stopped", "cues": 12}  # fmt: skip
    page.evaluate(
        "(log) => localStorage.setItem('microamp-home-queue', JSON.stringify([log]))", other
    )
    page.reload()  # the page's own flush, on load, sends what is hers
    page.wait_for_function("() => document.body.dataset.logFlush === 'flushed'")
    assert page.evaluate("document.body.dataset.account") != "999"
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('microamp-home-queue'))")
    assert [log["uuid"] for log in kept] == ["someone-else"]
    with home.store.transaction() as db:
        assert db.scalars(select(HomeSession)).all() == []


def test_three_days_done_make_a_streak_and_a_missed_day_breaks_it(page: Page, home: Home) -> None:
    first_run(page, home)
    build_quick_routine(page, home)
    for day in range(3):
        if day:
            home.days.advance()
            page.goto(f"{home.url}/guide/my-quick")
        run_to_the_end(page)
    page.goto(f"{home.url}/")
    expect(page.get_by_test_id("streak")).to_have_text("3 days")
    expect(page.get_by_test_id("adherence")).to_have_text("100 %")
    home.days.advance(2)  # Thursday passes without a routine; it is Friday now
    page.goto(f"{home.url}/")
    expect(page.get_by_test_id("streak")).to_have_text("0 days")
    expect(page.get_by_test_id("adherence")).to_have_text("75 %")
    thursday = (home.days.today.replace(day=home.days.today.day - 1)).isoformat()
    expect(page.locator(f'.calendar td[data-date="{thursday}"]')).to_have_attribute(
        "data-kind", "missed"
    )


def test_a_routine_past_the_daily_time_is_refused_with_the_reason(page: Page, home: Home) -> None:
    first_run(page, home)
    with home.store.transaction() as db:
        from microamp.store.home import record_home_session

        account = db.scalars(select(HomeAccount)).one()
        record_home_session(db, account, uuid="earlier-today-1", protocol_name="home-full",
                            protocol_hash="sha256:x", on_date=home.days.today, seconds_done=1100,
                            steps_done=[], status="completed", cues=0, max_seconds=1200)  # fmt: skip
    page.goto(f"{home.url}/guide/home-express")
    expect(page.get_by_role("alert")).to_contain_text("of today's 20 min are used")
    expect(page.get_by_role("button", name="Start")).to_be_disabled()


def test_the_auto_off_ends_a_paused_routine_twenty_minutes_after_start(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    page.clock.install()
    page.goto(f"{home.url}/guide/home-express")
    guide = page.locator("#guide")
    expect(guide).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Start").click()
    expect(guide).to_have_attribute("data-state", "running")
    page.get_by_role("button", name="Pause").click()
    page.clock.fast_forward("20:01")
    expect(guide).to_have_attribute("data-state", "auto-off")
    expect(guide).to_have_attribute("data-logged", "sent", timeout=10_000)
    with home.store.transaction() as db:
        (logged,) = db.scalars(select(HomeSession)).all()
        assert logged.status == "auto-off" and logged.seconds_done < 60


def test_a_zones_level_is_lowered_during_the_routine_and_kept_for_the_next(
    page: Page, home: Home
) -> None:
    first_run(page, home)
    page.goto(f"{home.url}/guide/home-express")
    level = page.locator("#level")
    expect(level).to_have_text("Neck at 100 % of the routine's level")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Gentler for this zone").click()
    page.get_by_role("button", name="Gentler for this zone").click()
    expect(page.locator("#guide")).to_have_attribute("data-level-saved", "0.8")
    expect(level).to_have_text("Neck at 80 % of the routine's level")
    expect(page.locator("#level-status")).to_contain_text("neck zone now starts at 80 %")
    page.get_by_role("button", name="End now").click()
    with home.store.transaction() as db:
        assert db.scalars(select(HomeAccount)).one().zone_levels == {"neck": 0.8}
    page.goto(f"{home.url}/settings")
    expect(page.get_by_label("Neck level")).to_have_value("0.8")


def test_a_device_session_on_her_record_counts_towards_the_guides_daily_limit(
    page: Page, home: Home
) -> None:
    from datetime import UTC, datetime, time

    from microamp.store.session_models import TreatmentSession

    first_run(page, home)
    with home.store.transaction() as db:
        account = db.scalars(select(HomeAccount)).one()
        # 18 minutes delivered on the device today, started from another interface
        db.add(TreatmentSession(client_id=account.client_id, protocol_name="home-express",
                                status="completed", delivered_settings={"stimulation_s": 1080.0},
                                started_at=datetime.combine(home.days.today, time(9),
                                                            tzinfo=UTC)))  # fmt: skip
    page.goto(f"{home.url}/")
    expect(page.get_by_test_id("used-today")).to_have_text("18.0 of 20 min")
    page.goto(f"{home.url}/guide/home-express")
    expect(page.locator("#refusal")).to_contain_text("18.0 of today's 20 min are used")
    expect(page.locator("#start")).to_be_disabled()
