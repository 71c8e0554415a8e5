"""`POST /api/v1/sessions` for a person the home profile governs: the station refuses a start
past her 20 minutes a day with 422 naming the routine and the rule, and no record opens."""

from __future__ import annotations

from sqlalchemy import func, select

from microamp.store.base import utc_now
from microamp.store.daily_time import client_day
from microamp.store.home_models import HomeAccount, HomeSession
from microamp.store.session_models import TreatmentSession
from web.conftest import Clinic


def test_a_start_past_her_daily_time_is_422_naming_the_routine(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.store.transaction() as db:
        account = HomeAccount(client_id=client_id, display_name="C", password_hash="x",
                              skipped=[], zone_levels={}, plan_start=utc_now().date())  # fmt: skip
        db.add(account)
        db.flush()
        db.add(HomeSession(uuid="api-guided-01", account_id=account.id, client_id=client_id,
                           protocol_name="home-express", protocol_hash="", mode="guided",
                           on_date=client_day(db, now=utc_now()), seconds_done=18 * 60,
                           steps_done=[], status="completed", cues=0))  # fmt: skip
        before = db.scalar(select(func.count()).select_from(TreatmentSession))
    with clinic.api("practitioner") as api:
        response = api.post("/api/v1/sessions",
                            json={"client_id": client_id, "protocol": "home-express"})  # fmt: skip
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    assert detail["loc"][-1] == "routine"
    assert "of today's 20 min are used" in detail["msg"]
    with clinic.store.session() as db:
        assert db.scalar(select(func.count()).select_from(TreatmentSession)) == before
