"""A visit's timers through several web workers on one PostgreSQL (`microamp serve --workers 3`,
skipped without one): a step started through one worker is paused, read and finished through
others, and operators pressing Done at the same moment through different workers get one
change and 409s, never a step finished twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from microamp.store import Store
from microamp.store.visit_steps import visit_steps
from web.cluster import fresh, served_cluster
from web.conftest import Clinic, add_service_visit

WORKERS = 3


def _visit(store: Store, clinic: Clinic) -> None:
    clinic.clients["visit"] = add_service_visit(clinic)


def _press(clinic: Clinic, role: str, number: int, body: dict[str, str]) -> httpx.Response:
    with fresh(clinic, role) as api:  # a new connection: any of the workers
        return api.post(f"/api/v1/appointments/{clinic.clients['visit']}/steps/{number}",
                        json=body)  # fmt: skip


def test_the_timers_are_the_same_through_every_worker(tmp_path: Path) -> None:
    with served_cluster(tmp_path, workers=WORKERS, stations={}, more=_visit) as clinic:
        visit = clinic.clients["visit"]
        assert _press(clinic, "practitioner", 3, {"action": "start"}).status_code == 200
        for _ in range(2 * WORKERS):
            with fresh(clinic, "owner") as api:
                steps = api.get(f"/api/v1/appointments/{visit}/steps").json()
            assert steps[2]["status"] == "running"
        paused = _press(clinic, "owner", 3, {"action": "pause"})
        assert paused.status_code == 200 and paused.json()["status"] == "paused"
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(
                lambda who: _press(clinic, who, 3, {"action": "done", "products": who}),
                ["practitioner", "owner"] * 3,
            ))  # fmt: skip
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] + [409] * 5, [a.text for a in answers]
        with clinic.store.session() as db:
            massage = visit_steps(db, appointment_id=visit)[2]
            winner = next(a for a in answers if a.status_code == 200).json()
            assert (massage.status, massage.products) == ("done", winner["products"])
            assert abs(massage.elapsed_s - paused.json()["taken_s"]) < 0.1  # rounded to 0.1 s
