"""A visit's manual steps over the JSON API and the console's own form posts, on SQLite and
PostgreSQL: the checklist copied from the service, timer controls (a 409 naming why when the
state does not allow one, a 422 for a bad value), clinical roles only, every read and write
audited, and the record's document carrying the steps."""

from __future__ import annotations

from contextlib import closing

from sqlalchemy import select

from microamp.store.access import AuditEntry
from web.conftest import Clinic, add_service_record, add_service_visit, csrf_of


def _audits(clinic: Clinic, resource: str) -> list[AuditEntry]:
    with clinic.store.session() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.resource == resource)))


def test_the_checklist_is_timed_over_the_api(clinic: Clinic) -> None:
    visit = add_service_visit(clinic, hour=8)
    with clinic.api("practitioner") as api:
        listed = api.get(f"/api/v1/appointments/{visit}/steps")
        assert listed.status_code == 200, listed.text
        assert [s["name"] for s in listed.json()] == [
            "Cleansing", "Skin analysis", "Massage", "Microcurrent lift", "Mask"]  # fmt: skip
        assert {s["status"] for s in listed.json()} == {"pending"}
        started = api.post(f"/api/v1/appointments/{visit}/steps/3", json={"action": "start"})
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "running" and started.json()["started_at"]
        done = api.post(f"/api/v1/appointments/{visit}/steps/3",
                        json={"action": "done", "products": "Rosehip oil"})  # fmt: skip
        body = done.json()
        assert (body["status"], body["products"], body["done_by"]) == (
            "done", "Rosehip oil", "Practitioner")  # fmt: skip
        assert body["ended_at"] and body["taken_s"] >= 0
        again = api.post(f"/api/v1/appointments/{visit}/steps/3", json={"action": "start"})
        assert again.status_code == 409
        assert "Massage is done: it cannot be started" in again.json()["detail"]
        device = api.post(f"/api/v1/appointments/{visit}/steps/4", json={"action": "done"})
        assert device.status_code == 409 and "device session" in device.json()["detail"]
        for wrong in ({"action": "boil"}, {"action": "start", "extra": 1},
                      {"action": "products", "products": "x" * 501}):  # fmt: skip
            refused = api.post(f"/api/v1/appointments/{visit}/steps/1", json=wrong)
            assert refused.status_code == 422, wrong
        missing = api.post(f"/api/v1/appointments/{visit}/steps/9", json={"action": "start"})
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "step"
    with clinic.api("reception") as desk:
        assert desk.get(f"/api/v1/appointments/{visit}/steps").status_code == 403
    resource = f"client:{clinic.clients['cleared']}/visit:{visit}/steps"
    actions = [(a.action, a.detail.get("control")) for a in _audits(clinic, resource)]
    assert ("write", "start") in actions and ("write", "done") in actions
    assert ("read", None) in actions


def test_the_record_document_carries_the_visit_steps(clinic: Clinic) -> None:
    record = add_service_record(clinic)
    with clinic.api("practitioner") as api:
        document = api.get(f"/api/v1/records/{record}").json()
    steps = document["service_steps"]
    assert [s["status"] for s in steps] == ["done", "pending", "pending", "completed", "done"]
    assert steps[0]["products"] == "Gentle foaming cleanser"
    assert steps[0]["done_by"] == "Practitioner"
    assert steps[3]["record_id"] == record and steps[3]["ended_at"]
    assert steps[4]["started_at"] and steps[4]["ended_at"]


def test_the_console_form_posts_go_back_and_the_script_gets_its_step(clinic: Clinic) -> None:
    visit = add_service_visit(clinic, hour=19)
    browser = clinic.browser_client("practitioner")
    console = browser.get(f"/console?appointment_id={visit}")
    assert console.status_code == 200 and 'id="visit-step-5"' in console.text
    token = csrf_of(console.text)
    form = {"csrf_token": token, "action": "done", "products": "Gentle cleanser",
            "back": f"/console?appointment_id={visit}"}  # fmt: skip
    plain = browser.post(f"/visits/{visit}/steps/1", data=form)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/console?appointment_id={visit}#visit-step-1"
    elsewhere = browser.post(f"/visits/{visit}/steps/2",
                             data=form | {"action": "skip", "back": "https://evil.example/"})  # fmt: skip
    assert elsewhere.headers["location"] == f"/console?appointment_id={visit}#visit-step-2"
    scripted = browser.post(f"/visits/{visit}/steps/3", data=form | {"action": "start"},
                            headers={"X-Checklist": "1"})  # fmt: skip
    assert scripted.status_code == 200
    assert scripted.text.lstrip().startswith('<li class="visit-step" id="visit-step-3"')
    assert 'data-status="running"' in scripted.text
    refused = browser.post(f"/visits/{visit}/steps/1", data=form | {"action": "start"},
                           headers={"X-Checklist": "1"})  # fmt: skip
    assert refused.status_code == 409
    assert "Cleansing is done: it cannot be started" in refused.text
    too_long = browser.post(f"/visits/{visit}/steps/5",
                            data=form | {"action": "products", "products": "y" * 600})  # fmt: skip
    assert too_long.status_code == 422
    assert 'aria-invalid="true"' in too_long.text and "y" * 600 in too_long.text
    fragment = browser.get(f"/visits/{visit}/steps/4", headers={"X-Checklist": "1"})
    assert fragment.status_code == 200 and "The device session" in fragment.text
    browser.close()
    desk = clinic.browser_client("reception")
    page = desk.get("/")
    denied = desk.post(f"/visits/{visit}/steps/1",
                       data={"csrf_token": csrf_of(page.text), "action": "start"})  # fmt: skip
    desk.close()
    assert denied.status_code == 403


def test_a_step_done_by_mistake_is_reopened_from_the_console_and_the_api(clinic: Clinic) -> None:
    visit = add_service_visit(clinic, hour=20)
    with closing(clinic.browser_client("practitioner")) as browser:
        token = csrf_of(browser.get(f"/console?appointment_id={visit}").text)
        back = f"/console?appointment_id={visit}"
        browser.post(
            f"/visits/{visit}/steps/1", data={"csrf_token": token, "action": "done", "back": back}
        )
        console = browser.get(back).text
        step_one = console[console.index('id="visit-step-1"') : console.index('id="visit-step-2"')]
        assert 'value="reopen"' in step_one and "Reopen<span" in step_one
        reopened = browser.post(f"/visits/{visit}/steps/1", headers={"x-checklist": "1"},
                                data={"csrf_token": token, "action": "reopen", "back": back})  # fmt: skip
        assert reopened.status_code == 200 and 'data-status="pending"' in reopened.text
        assert 'value="reopen"' not in reopened.text and 'value="start"' in reopened.text
    with clinic.api("practitioner") as api:
        again = api.post(f"/api/v1/appointments/{visit}/steps/1", json={"action": "reopen"})
        assert again.status_code == 409
        assert "Cleansing is pending: it cannot be reopened" in again.json()["detail"]
        api.post(f"/api/v1/appointments/{visit}/steps/3", json={"action": "start"})
        api.post(f"/api/v1/appointments/{visit}/steps/3", json={"action": "skip"})
        body = api.post(f"/api/v1/appointments/{visit}/steps/3", json={"action": "reopen"}).json()
        assert (body["status"], body["ended_at"], body["done_by"]) == ("paused", None, None)
    resource = f"client:{clinic.clients['cleared']}/visit:{visit}/steps"
    controls = [a.detail.get("control") for a in _audits(clinic, resource) if a.action == "write"]
    assert controls.count("reopen") == 2
