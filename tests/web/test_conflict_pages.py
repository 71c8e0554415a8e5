"""A refused change (409) outside the appointment book says on its page what was refused:
a visit step, not "this booking"."""

from __future__ import annotations

from contextlib import closing

from fastapi import Request
from fastapi.responses import Response

from microamp.store.book import set_state
from microamp.store.visit_steps import act_on_step, open_visit_steps
from web.conftest import Clinic, add_service_visit


def test_a_refused_step_reads_as_a_step_on_its_page(sqlite_clinic: Clinic) -> None:
    visit = add_service_visit(sqlite_clinic, hour=15)
    with sqlite_clinic.store.transaction() as db:
        open_visit_steps(db, appointment_id=visit)
        set_state(db, appointment_id=visit, state="cancelled")

    def start_first_step(request: Request) -> Response:
        with request.app.state.store.transaction() as db:
            act_on_step(db, appointment_id=visit, position=0, action="start")
        return Response("started")

    sqlite_clinic.app.add_api_route("/start-first-step", start_first_step, methods=["GET"])
    with closing(sqlite_clinic.browser_client("practitioner")) as browser:
        refused = browser.get("/start-first-step")
    assert refused.status_code == 409
    assert "This step cannot change: this visit is cancelled: its steps are closed" in refused.text
    assert "booking" not in refused.text
