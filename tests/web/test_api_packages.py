"""The packages API: the owner defines a package, reception sells it and records a payment,
the balance shows on the client's packages, the day's takings count it; bad values name
their field, roles are kept."""

from __future__ import annotations

from web.conftest import Clinic


def test_a_package_is_defined_sold_paid_and_counted_in_the_takings(clinic: Clinic) -> None:
    client_id = clinic.clients["cleared"]
    with clinic.api("reception") as api:
        refused = api.post(
            "/api/v1/packages", json={"name": "Six", "sessions": 6, "price_minor": 60000}
        )
        assert refused.status_code == 403
    with clinic.api("owner") as api:
        made = api.post("/api/v1/packages",
                        json={"name": "Six facials", "sessions": 6, "price_minor": 60000, "valid_days": 180})  # fmt: skip
        assert made.status_code == 201, made.text
        again = api.post(
            "/api/v1/packages", json={"name": "Six facials", "sessions": 6, "price_minor": 1}
        )
        assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "name"]
        package_id = made.json()["id"]
    with clinic.api("reception") as api:
        assert package_id in [p["id"] for p in api.get("/api/v1/packages").json()]
        sold = api.post(f"/api/v1/clients/{client_id}/packages", json={"package_id": package_id})
        assert sold.status_code == 201, sold.text
        assert (sold.json()["left"], sold.json()["expired"]) == (6, False)
        before = api.get("/api/v1/takings").json()
        paid = api.post("/api/v1/payments", json={"amount": "600.00", "method": "card",
                        "reference": "POS 4411", "client_package_id": sold.json()["id"]})  # fmt: skip
        assert paid.status_code == 201, paid.text
        assert (paid.json()["amount_minor"], paid.json()["client_id"]) == (60000, client_id)
        bad = api.post("/api/v1/payments", json={"amount": "-5", "method": "card"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "amount"]
        bad = api.post("/api/v1/payments", json={"amount": "5", "method": "iou"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "method"]
        after = api.get("/api/v1/takings").json()
        assert after["count"] == before["count"] + 1
        card = after["by_method"]["card"]
        assert sum(card.values()) - sum(before["by_method"].get("card", {}).values()) == 60000
        listed = api.get(f"/api/v1/clients/{client_id}/packages").json()
        assert [(p["name"], p["left"]) for p in listed] == [("Six facials", 6)]
        assert api.get("/api/v1/takings", params={"day": "soon"}).status_code == 422
