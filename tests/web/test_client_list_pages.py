"""The client list and search, 25 clients a page with the number found and Previous / Next
links, also after a refused "add client"; the API's client search by page; and a long
treatment history on the client page, 20 records a page, the latest first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta

import httpx
import pytest

from microamp.store.crud import create_client
from web.conftest import Clinic, clinic_on, csrf_of

LISTED = 40  # "Paige Listed NN", beside the seeded Ana Lima and Ben Carter


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    data_dir = tmp_path_factory.mktemp("client-list")
    with clinic_on(f"sqlite:///{data_dir / 'clinic.db'}", data_dir) as served:
        with served.store.transaction() as db:
            for n in range(1, LISTED + 1):
                create_client(
                    db, full_name=f"Paige Listed {n:02d}", date_of_birth=date(1980, 1, n % 28 + 1)
                )
        yield served


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/clients/\d+">([^<]+)</a>', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}" aria-label="([^"]+)">', html)
    return f"{found.group(1)} | {found.group(2)}" if found else None


def test_the_list_shows_25_clients_a_page_with_the_count_and_a_next_link(listed: Clinic) -> None:
    with closing(listed.browser_client("reception")) as browser:
        first = browser.get("/clients")
    assert first.status_code == 200
    assert len(_rows(first.text)) == 25 and _rows(first.text)[0] == "Ana Lima"
    assert f"{LISTED + 2} clients · page 1 of 2" in first.text
    assert _link(first.text, "next") == "/clients?page=2 | Next page, page 2"
    assert _link(first.text, "prev") is None
    assert 'href="/clients?page=1" aria-current="page"' in first.text


def test_a_later_page_of_a_search_keeps_the_search_in_its_links(listed: Clinic) -> None:
    with closing(listed.browser_client("reception")) as browser:
        second = browser.get("/clients", params={"q": "listed", "page": "2", "archived": "1"})
    assert second.status_code == 200
    assert _rows(second.text) == [f"Paige Listed {n}" for n in range(26, LISTED + 1)]
    assert f"{LISTED} clients match “listed” · page 2 of 2" in second.text
    assert _link(second.text, "prev") == (
        "/clients?page=1&amp;q=listed&amp;archived=1 | Previous page, page 1"
    )
    assert _link(second.text, "next") is None


def test_a_page_past_the_end_says_so_and_links_the_last_page(listed: Clinic) -> None:
    with closing(listed.browser_client("reception")) as browser:
        beyond = browser.get("/clients", params={"q": "listed", "page": "9"})
        bad = [browser.get("/clients", params={"page": p}).status_code for p in ("0", "two")]
    assert beyond.status_code == 404 and _rows(beyond.text) == []
    assert "Page 9 is past the end of this list: it has 2 pages." in beyond.text
    assert '<a href="/clients?page=2&amp;q=listed">Go to the last page (page 2)</a>' in beyond.text
    assert bad == [422, 422]


def test_a_refused_add_shows_the_first_page_of_the_list_beside_its_error(listed: Clinic) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with closing(listed.browser_client("reception")) as browser:
        token = csrf_of(browser.get("/clients").text)
        refused = browser.post("/clients", data={"csrf_token": token, "full_name": "Not Yet",
                                                 "date_of_birth": tomorrow})  # fmt: skip
    assert refused.status_code == 422 and "There is a problem" in refused.text
    assert len(_rows(refused.text)) == 25 and f"{LISTED + 2} clients · page 1 of 2" in refused.text
    assert _link(refused.text, "next") == "/clients?page=2 | Next page, page 2"


def _search(api: httpx.Client, **params: str | int) -> httpx.Response:
    return api.get("/api/v1/clients", params={"q": "listed", "limit": 25} | params)


def test_the_api_search_pages_by_page_with_the_total_and_links(listed: Clinic) -> None:
    with closing(listed.api("reception")) as api:
        first, second, beyond = (_search(api, page=n) for n in (1, 2, 3))
        by_offset = _search(api, offset=25)
        both = _search(api, page=2, offset=25)
    assert [len(r.json()) for r in (first, second, beyond)] == [25, LISTED - 25, 0]
    assert {r.headers["X-Total-Count"] for r in (first, second, beyond)} == {str(LISTED)}
    assert first.headers["Link"] == '</api/v1/clients?q=listed&limit=25&page=2>; rel="next"'
    assert second.headers["Link"] == '</api/v1/clients?q=listed&limit=25&page=1>; rel="prev"'
    assert by_offset.json() == second.json()
    assert by_offset.headers["Link"] == '</api/v1/clients?q=listed&limit=25&offset=0>; rel="prev"'
    assert both.status_code == 422 and both.json()["detail"][0]["loc"][-1] == "offset"


def test_a_long_history_shows_the_latest_records_and_links_the_older(listed: Clinic) -> None:
    from microamp.store.records import record_refusal

    with listed.store.transaction() as db:
        regular = create_client(db, full_name="Rhea Regular", date_of_birth=date(1970, 5, 5)).id
        made = [record_refusal(db, protocol_name=f"visit-{n:02d}", reasons=["a test"],
                               client_id=regular).id for n in range(1, 46)]  # fmt: skip
    with closing(listed.browser_client("practitioner")) as browser:
        first, third = (browser.get(f"/clients/{regular}", params=p) for p in ({}, {"records": 3}))
        beyond = browser.get(f"/clients/{regular}", params={"records": 4})
        bad = browser.get(f"/clients/{regular}", params={"records": "0"})

    def shown(html: str) -> list[int]:
        return [int(n) for n in re.findall(r'<a href="/records/(\d+)">', html)]

    assert shown(first.text) == made[::-1][:20]
    assert f'href="/clients/{regular}?records=2#records-title" rel="next"' in first.text
    assert 'rel="prev">Show newer records' not in first.text
    assert shown(third.text) == made[::-1][40:]
    assert f'href="/clients/{regular}?records=2#records-title" rel="prev"' in third.text
    assert "Show older records" not in third.text
    assert shown(beyond.text) == [] and "No older sessions recorded." in beyond.text
    assert bad.status_code == 422
