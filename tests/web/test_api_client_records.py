"""The API keeps client records: PATCH, archive, merge, search, the duplicate check on adding,
and skin analyses; reception never touches the health fields; every write audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from microamp.store.access import AuditEntry
from web.conftest import Clinic


def add(clinic: Clinic, name: str, **body: Any) -> dict[str, Any]:
    with clinic.api("reception") as api:
        answer = api.post(
            "/api/v1/clients", json={"full_name": name, "date_of_birth": "1979-02-03"} | body
        )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def audited(clinic: Clinic, resource: str) -> list[dict[str, Any]]:
    with clinic.store.session() as db:
        return [
            e.detail for e in db.scalars(select(AuditEntry).where(AuditEntry.resource == resource))
        ]


def test_adding_a_possible_duplicate_answers_409_with_it_until_allowed(clinic: Clinic) -> None:
    first = add(clinic, "Dora Duplicate", email="dora@example.org")
    with clinic.api("reception") as api:
        again = api.post(
            "/api/v1/clients",
            json={
                "full_name": "Dora D.",
                "date_of_birth": "1980-01-01",
                "email": "DORA@example.org",
            },
        )
    assert again.status_code == 409
    assert [c["id"] for c in again.json()["possible_duplicates"]] == [first["id"]]
    add(clinic, "Dora D.", email="dora@example.org", allow_duplicate=True)


def test_patch_changes_the_fields_given_and_reception_not_health(clinic: Clinic) -> None:
    client = add(clinic, "Eva Edit")
    path = f"/api/v1/clients/{client['id']}"
    with clinic.api("reception") as api:
        answer = api.patch(path, json={"phone": "0611223344"})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["phone"], answer.json()["changed"]) == ("0611223344", ["phone"])
        assert answer.json()["allergies"] is None
        assert api.patch(path, json={"allergies": "latex"}).status_code == 403
        bad = api.patch(path, json={"email": "nope"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "email"]
        assert api.patch(path, json={"full_name": None}).status_code == 422
        assert api.patch(path, json={"colour": "red"}).status_code == 422
        assert api.patch("/api/v1/clients/999999", json={"phone": "1"}).status_code == 404
    with clinic.api("practitioner") as api:
        answer = api.patch(path, json={"allergies": "latex", "medications": "isotretinoin"})
        assert answer.json()["allergies"] == "latex"
    assert {"change": "edited", "fields": "allergies,medications"} in audited(
        clinic, f"client:{client['id']}"
    )


def test_search_finds_by_phone_and_email_and_health_fields_for_clinical_roles(
    clinic: Clinic,
) -> None:
    client = add(clinic, "Fay Search", phone="+44 7700 900123", email="fay@search.example")
    with clinic.api("practitioner") as api:
        api.patch(f"/api/v1/clients/{client['id']}", json={"notes": "prefers quiet rooms"})

    def found(role: str, q: str, **params: Any) -> list[int]:
        with clinic.api(role) as api:
            answer = api.get("/api/v1/clients", params={"q": q} | params)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()]

    assert found("reception", "7700900123") == [client["id"]]
    assert found("reception", "search.example") == [client["id"]]
    assert found("reception", "quiet rooms") == []
    assert found("practitioner", "quiet rooms") == [client["id"]]
    with clinic.api("reception") as api:
        assert api.post(f"/api/v1/clients/{client['id']}/archive").json()["archived"] is True
    assert found("reception", "Fay Search") == []
    assert found("reception", "Fay Search", archived="true") == [client["id"]]
    with clinic.api("reception") as api:
        assert api.delete(f"/api/v1/clients/{client['id']}/archive").json()["archived"] is False
    assert found("reception", "Fay Search") == [client["id"]]


def test_a_search_with_a_nul_is_422_naming_q_on_every_backend(clinic: Clinic) -> None:
    add(clinic, "Nul Search")
    with clinic.api("practitioner") as api:
        answer = api.get("/api/v1/clients", params={"q": "Nul\x00 Search"})
    assert answer.status_code == 422, answer.text
    assert "q" in answer.text and "NUL" in answer.text


def test_merge_needs_confirmation_a_clinical_role_and_moves_the_record(clinic: Clinic) -> None:
    kept = add(clinic, "Gia Merge", email="gia@example.org")
    duplicate = add(clinic, "Gia Merge", phone="0622334455", allow_duplicate=True)
    path = f"/api/v1/clients/{kept['id']}/merge"
    with clinic.api("practitioner") as api:
        answer = api.post(
            f"/api/v1/clients/{duplicate['id']}/skin-analyses",
            json={"skin_type": "dry", "fitzpatrick_type": "II", "laxity_grade": 1},
        )
        assert answer.status_code == 201, answer.text
    with clinic.api("reception") as api:
        assert (
            api.post(path, json={"duplicate_id": duplicate["id"], "confirm": True}).status_code
            == 403
        )
    with clinic.api("practitioner") as api:
        refused = api.post(path, json={"duplicate_id": duplicate["id"]})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == [
            "body",
            "confirm",
        ]
        done = api.post(path, json={"duplicate_id": duplicate["id"], "confirm": True})
        assert done.status_code == 200, done.text
        assert done.json()["moved"] == {"skin_analyses": 1}
        again = api.post(path, json={"duplicate_id": duplicate["id"], "confirm": True})
        assert again.status_code == 422
        history = api.get(f"/api/v1/clients/{kept['id']}/skin-analyses").json()
        assert [(a["version"], a["laxity"]) for a in history] == [(1, "mild")]
        gone = api.get(f"/api/v1/clients/{duplicate['id']}").json()
        assert gone["full_name"] == "Gia Merge"
        shown = api.patch(f"/api/v1/clients/{kept['id']}", json={}).json()
        assert shown["phone"] == "0622334455"
    assert {"change": "merged away", "kept_id": kept["id"]} in audited(
        clinic, f"client:{duplicate['id']}"
    )


def test_skin_analyses_refuse_a_bad_value_by_name(clinic: Clinic) -> None:
    client = add(clinic, "Hana Skin")
    with clinic.api("practitioner") as api:
        path = f"/api/v1/clients/{client['id']}/skin-analyses"
        bad = api.post(
            path, json={"skin_type": "leathery", "fitzpatrick_type": "II", "laxity_grade": 1}
        )
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "skin_type"]
        assert (
            api.post(
                path, json={"skin_type": "dry", "fitzpatrick_type": "II", "laxity_grade": 9}
            ).status_code
            == 422
        )
    with clinic.api("reception") as api:
        assert api.get(path).status_code == 403


def _clinical_ids(clinic: Clinic) -> list[int]:
    from microamp.store.models import User

    with clinic.store.session() as db:
        roles = ("owner", "practitioner")
        return list(db.scalars(select(User.id).where(User.role.in_(roles)).order_by(User.id)))


def test_a_merge_that_would_book_her_twice_at_once_is_409_naming_both_visits(
    clinic: Clinic,
) -> None:
    from datetime import date, timedelta

    from web.conftest import add_book

    add_book(clinic)
    kept = add(clinic, "Uma Twice", email="uma@example.org")
    duplicate = add(clinic, "Uma Twice", phone="0633445566", allow_duplicate=True)
    day = (date.today() + timedelta(days=4)).isoformat()
    with clinic.api("reception") as api:
        rooms = [r["id"] for r in api.get("/api/v1/rooms").json()][:2]
        service = next(
            s["id"] for s in api.get("/api/v1/services").json() if s["name"] == "Lift facial"
        )
        staff = [{"id": i} for i in _clinical_ids(clinic)]
        booked = []
        for who, room, client, start in ((staff[0], rooms[0], kept, "12:00"),
                                         (staff[1], rooms[1], duplicate, "12:30")):  # fmt: skip
            answer = api.post("/api/v1/appointments", json={
                "client_id": client["id"], "service_id": service, "room_id": room,
                "practitioner_id": who["id"], "start": f"{day}T{start}:00"})  # fmt: skip
            assert answer.status_code == 201, answer.text
            booked.append(answer.json()["id"])
    with clinic.api("practitioner") as api:
        path = f"/api/v1/clients/{kept['id']}/merge"
        refused = api.post(path, json={"duplicate_id": duplicate["id"], "confirm": True})
        assert refused.status_code == 409, refused.text
        assert all(f"appointment {i}" in refused.text for i in booked)
        assert api.get(f"/api/v1/clients/{duplicate['id']}").status_code == 200
