"""The package pages: the owner adds a package (a bad value kept with its error beside the
field), reception sells it from the client page and records a payment (the same), and the
day's takings show it by method, on the day of the clinic's time zone."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.book_setup import add_service, save_settings
from microamp.store.packages import record_payment
from web.conftest import Clinic, csrf_of


def _post(browser: httpx.Client, page: str, path: str, **data: Any) -> httpx.Response:
    return browser.post(path, data={"csrf_token": csrf_of(browser.get(page).text)} | data)


def _control(html: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no control #{element_id}"
    return found.group(0)


def _selected(html: str, element_id: str) -> str:
    found = re.search(rf'<select[^>]*\bid="{re.escape(element_id)}".*?</select>', html, re.S)
    assert found, f"no select #{element_id}"
    chosen = re.search(r'<option value="([^"]*)" selected>', found.group(0))
    return chosen.group(1) if chosen else ""


def test_a_package_added_sold_paid_for_and_counted_in_the_takings(sqlite_clinic: Clinic) -> None:
    with sqlite_clinic.store.transaction() as db:
        save_settings(db, time_zone="Pacific/Auckland", currency="EUR")
        service = add_service(db, name="Pages facial", duration_min=60, currency="EUR").id
    client_id = sqlite_clinic.clients["cleared"]
    with closing(sqlite_clinic.browser_client("owner")) as owner:
        bad = _post(owner, "/packages", "/packages", name="Six lifts", sessions="6",
                    price="600.005", service_id=str(service), valid_days="180")  # fmt: skip
        assert bad.status_code == 422
        assert (
            '<a href="#price">Price: an amount of 0 or more with at most 2 decimals</a>' in bad.text
        )
        assert 'aria-invalid="true"' in _control(bad.text, "price")
        assert 'value="600.005"' in _control(bad.text, "price")
        assert 'value="Six lifts"' in _control(bad.text, "name")
        assert 'value="180"' in _control(bad.text, "valid_days")
        assert _selected(bad.text, "service_id") == str(service)
        made = _post(owner, "/packages", "/packages", name="Six lifts", sessions="6",
                     price="600.00", service_id=str(service), valid_days="180")  # fmt: skip
        assert made.status_code == 303
        listed = owner.get("/packages").text
        assert "Six lifts" in listed and "600.00 EUR" in listed and "180 days" in listed
        taken = _post(owner, "/packages", "/packages", name="Six lifts", sessions="6", price="1")
        assert taken.status_code == 422 and "Name: another package has this name" in taken.text
    page = f"/clients/{client_id}"
    with closing(sqlite_clinic.browser_client("reception")) as reception:
        assert reception.get("/packages").status_code == 403
        unchosen = _post(reception, page, f"{page}/packages", package_id="")
        assert unchosen.status_code == 422
        assert '<a href="#sale_package">Package: choose a package to sell</a>' in unchosen.text
        assert '<details class="mt-075" open>' in unchosen.text
        shown = reception.get(page).text
        package_id = re.search(r'<option value="(\d+)">Six lifts: 6 sessions', shown)
        assert package_id, shown
        sold = _post(reception, page, f"{page}/packages", package_id=package_id.group(1))
        assert sold.status_code == 303
        shown = reception.get(page).text
        balance = re.search(r'data-testid="packages">.*?</table>', shown, re.S)
        assert balance and "Six lifts" in balance.group(0) and "6 of 6" in balance.group(0)
        sold_id = re.search(r'<option value="(\d+)">Six lifts, sold', shown)
        assert sold_id
        wrong = _post(reception, page, f"{page}/payments", amount="-5", method="card",
                      reference="POS 4411", client_package_id=sold_id.group(1))  # fmt: skip
        assert wrong.status_code == 422
        assert (
            '<a href="#pay_amount">Amount: an amount over 0 with at most 2 decimals</a>'
            in wrong.text
        )
        assert 'aria-invalid="true"' in _control(wrong.text, "pay_amount")
        assert 'value="-5"' in _control(wrong.text, "pay_amount")
        assert 'value="POS 4411"' in _control(wrong.text, "pay_reference")
        assert _selected(wrong.text, "pay_method") == "card"
        assert _selected(wrong.text, "pay_package") == sold_id.group(1)
        no_method = _post(reception, page, f"{page}/payments", amount="600", method="")
        assert no_method.status_code == 422 and 'href="#pay_method"' in no_method.text
        paid = _post(reception, page, f"{page}/payments", amount="600.00", method="card",
                     reference="POS 4411", client_package_id=sold_id.group(1))  # fmt: skip
        assert paid.status_code == 303
        assert "600.00 EUR" in reception.get(page).text
        today = reception.get("/takings")
        assert today.status_code == 200 and "Pacific/Auckland" in today.text
        by_method = re.search(r'data-testid="by-method">.*?</table>', today.text, re.S)
        assert by_method and "Card</td><td>600.00 EUR" in by_method.group(0)
        assert "POS 4411" in today.text and f'href="/clients/{client_id}"' in today.text
        bad_day = reception.get("/takings", params={"day": "2026-02-30"})
        assert bad_day.status_code == 422
        assert 'value="2026-02-30"' in _control(bad_day.text, "day")
        assert '<a href="#day">Day: a date as YYYY-MM-DD</a>' in bad_day.text
    with sqlite_clinic.store.session() as db:
        details = [
            (e.resource, e.detail)
            for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "write"))
        ]
    assert any(r == f"client:{client_id}/package" for r, _ in details)
    assert any(r.startswith("payment:") and d.get("amount_minor") == 60000 for r, d in details)


def test_the_takings_day_is_the_clinics_day_not_utcs(sqlite_clinic: Clinic) -> None:
    with sqlite_clinic.store.transaction() as db:
        save_settings(db, time_zone="Pacific/Auckland")
        # 22:30 UTC on 10 March is 11:30 on 11 March in Auckland (UTC+13 then)
        record_payment(db, amount="45.50", method="cash", reference="late till",
                       taken_at=datetime(2026, 3, 10, 22, 30, tzinfo=UTC))  # fmt: skip
        record_payment(db, amount="10", method="cash",
                       taken_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC))  # fmt: skip
    with closing(sqlite_clinic.browser_client("reception")) as reception:
        eleventh = reception.get("/takings", params={"day": date(2026, 3, 11).isoformat()}).text
        assert "late till" in eleventh and "11:30" in eleventh and "45.50" in eleventh
        assert "10.00" not in eleventh
        tenth = reception.get("/takings", params={"day": "2026-03-10"}).text
        assert "late till" not in tenth and "10.00" in tenth and "23:00" in tenth
