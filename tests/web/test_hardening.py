"""The clinic server's hardening, over HTTP against a served app and in Debian's chromium:
security headers on every route, no-store on health data, a CSP without inline script, the API
docs working offline, photo uploads (a decompression bomb refused from its header, the work off
the event loop, scaled down, one path for the page and the API, clinical roles only), and
passwords zxcvbn judges guessable refused."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.base import utc_now
from microamp.store.clinic_setup import issue_setup_token
from microamp.store.models import ProgressEntry, User
from microamp.store.photo_blobs import PhotoBlob, entry_photo
from microamp.store.photos import MAX_PHOTO_PIXELS, MAX_STORED_EDGE_PX
from microamp.web import WebSettings, create_app
from microamp.web.app import declared_routes, open_web_store
from support.images import photo, png_bomb, png_header_only
from web.browsing import CHROMIUM
from web.conftest import Clinic, clinic_on, csrf_of, serve

TEMPLATES = Path(__file__).parents[2] / "src" / "microamp" / "web" / "templates"
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}
# same-origin, or no Referer at all (the setup page, whose link is a secret)
REFERRER_POLICIES = ("same-origin", "no-referrer")
# a value for each path parameter the app declares
PARAMETERS = {"name": "pro-lift", "kind": "post", "token": "no-such-token", "live_id": "nope"}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def check_security_headers(response: httpx.Response, where: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    assert response.headers.get("referrer-policy") in REFERRER_POLICIES, where
    policy = directives(response.headers.get("content-security-policy", ""))
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("default-src") == ["'none'"], where
    for kind in ("script-src", "style-src"):
        sources = policy[kind]
        assert sources[0] == "'self'", where
        assert all(s.startswith("'sha256-") for s in sources[1:]), f"{where}: {kind} {sources}"
    if not response.url.path.startswith("/static/"):
        assert response.headers.get("cache-control") == "no-store", where


def concrete(path: str, clinic: Clinic) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return PARAMETERS.get(name, str(clinic.clients["cleared"]) if name == "client_id" else "1")

    return re.sub(r"\{(\w+)\}", value, path)


@pytest.fixture
def owner_page(sqlite_clinic: Clinic) -> Iterator[httpx.Client]:
    client = sqlite_clinic.browser_client("owner")
    try:
        yield client
    finally:
        client.close()


# -- headers ----------------------------------------------------------------------------------


def test_every_route_answers_with_the_security_headers_signed_in_or_not(
    sqlite_clinic: Clinic, owner_page: httpx.Client
) -> None:
    routes = declared_routes(sqlite_clinic.app)
    assert len(routes) > 50
    with sqlite_clinic.browser_client() as anonymous, sqlite_clinic.api("owner") as api:
        for method, path, _route in routes:
            url = concrete(path, sqlite_clinic)
            signed_in = api if path.startswith("/api/") else owner_page
            for who, client in (("anonymous", anonymous), ("owner", signed_in)):
                if who == "owner" and method != "GET":
                    continue  # a signed-in write would change the clinic under the other tests
                response = client.request(method, url)
                check_security_headers(response, f"{who} {method} {url} ({response.status_code})")


@pytest.mark.parametrize("path", ["/static/microamp.css", "/static/htmx.min.js", "/no/such/page"])
def test_static_files_and_unknown_paths_carry_the_headers_too(
    sqlite_clinic: Clinic, path: str
) -> None:
    with sqlite_clinic.browser_client() as client:
        response = client.get(path)
    check_security_headers(response, path)


def test_health_data_is_never_stored_by_a_browser_or_proxy_and_static_files_may_be(
    sqlite_clinic: Clinic, owner_page: httpx.Client
) -> None:
    cleared = sqlite_clinic.clients["cleared"]
    pages = [f"/clients/{cleared}", f"/clients/{cleared}/intake", "/signin", "/"]
    for path in pages:
        assert owner_page.get(path).headers["cache-control"] == "no-store", path
    with sqlite_clinic.api("practitioner") as api:
        for path in (f"/api/v1/clients/{cleared}/screening", f"/api/v1/clients/{cleared}/gate"):
            response = api.get(path)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store", path
    static = owner_page.get("/static/microamp.css")
    assert "no-store" not in static.headers.get("cache-control", "")


def test_strict_transport_security_only_when_served_over_https(tmp_path: Path) -> None:
    for https in (False, True):
        settings = WebSettings(
            database_url=f"sqlite:///{tmp_path / f'{https}.db'}", data_dir=tmp_path,
            secret_key="h" * 40, https=https,
        )  # fmt: skip
        store = open_web_store(settings)
        try:
            with serve(create_app(settings, store=store)) as url:
                response = httpx.get(f"{url}/signin")
        finally:
            store.close()
        hsts = response.headers.get("strict-transport-security")
        assert (hsts == "max-age=31536000") if https else hsts is None


def test_the_policy_allows_no_inline_script_on_any_page_the_docs_included(
    sqlite_clinic: Clinic,
) -> None:
    with sqlite_clinic.browser_client() as client:
        page = directives(client.get("/signin").headers["content-security-policy"])
        docs = directives(client.get("/api/v1/docs").headers["content-security-policy"])
    for policy in (page, docs):
        assert policy["script-src"] == ["'self'"]
        for kind in ("script-src", "style-src"):
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(policy[kind])


def test_no_template_carries_inline_script_handlers_or_styles() -> None:
    found = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>",
            r"\son[a-z]+=",
            r"\bhx-on",
            r"\sstyle=",
        ):
            found += [f"{template.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert found == []


# -- the API docs, offline ----------------------------------------------------------------------


def test_the_api_docs_page_loads_its_assets_from_the_app_itself(sqlite_clinic: Clinic) -> None:
    with sqlite_clinic.browser_client() as client:
        html = client.get("/api/v1/docs").text
        assert '<html lang="en">' in html
        assert "<script>" not in html  # the reference is HTML: nothing runs to show it
        assets = re.findall(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"', html)
        assert assets and all(a.startswith("/static/") for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


def test_the_api_reference_shows_every_operation_with_its_own_answers(
    sqlite_clinic: Clinic,
) -> None:
    with sqlite_clinic.browser_client() as client:
        html = client.get("/api/v1/docs").text
        schema = client.get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            anchor = f"op-{method}-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
            article = html[html.index(f'<h3 id="{anchor}"') :].split("</article>", 1)[0]
            for status, answer in operation["responses"].items():
                shown = answer["description"].replace("'", "&#39;").replace("`", "")
                assert f"<td>{status}</td>" in article, (method, path, status)
                assert shown in re.sub(r"</?code>", "", article), (method, path, status)
            for parameter in operation.get("parameters", []):
                assert f"<code>{parameter['name']}</code>" in article, (method, path)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")
def test_the_api_docs_render_offline_in_a_browser_under_the_policy(sqlite_clinic: Clinic) -> None:
    from playwright.sync_api import Route, expect

    from web.browsing import launch_chromium

    outside: list[str] = []
    refused: list[str] = []

    def only_the_clinic(route: Route) -> None:
        if route.request.url.startswith(sqlite_clinic.url):
            route.continue_()
        else:  # no network beyond the clinic: what would have gone out is recorded
            outside.append(route.request.url)
            route.abort()

    with launch_chromium() as browser:
        context = browser.new_context()
        context.route("**/*", only_the_clinic)
        page = context.new_page()
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"{sqlite_clinic.url}/api/v1/docs")
        expect(page.get_by_role("heading", level=1)).to_contain_text("microamp API")
        staff = page.get_by_role("heading", name="PATCH /api/v1/staff/{user_id}")
        expect(staff).to_be_visible()
        operations = page.locator("article.api-operation").count()
        context.close()
    assert operations >= 24  # the staff operations among them
    assert outside == []
    assert refused == []


# -- photo uploads ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


def _page_upload(clinic: Clinic, role: str, content: bytes, name: str = "a.png") -> httpx.Response:
    client = clinic.browser_client(role)
    try:
        token = csrf_of(client.get(f"/clients/{clinic.clients['cleared']}").text)
        return client.post(
            f"/clients/{clinic.clients['cleared']}/progress",
            data={"csrf_token": token, "taken_on": "2026-01-05", "notes": "hardening"},
            files={"photo": (name, content, "application/octet-stream")},
        )
    finally:
        client.close()


def _api_upload(clinic: Clinic, role: str, content: bytes, name: str = "a.png") -> httpx.Response:
    with clinic.api(role) as api:
        return api.post(
            f"/api/v1/clients/{clinic.clients['cleared']}/photos",
            data={"taken_on": "2026-01-05", "notes": "hardening"},
            files={"photo": (name, content, "application/octet-stream")},
        )


def _entries(clinic: Clinic) -> list[ProgressEntry]:
    with clinic.store.session() as db:
        return list(db.scalars(select(ProgressEntry).order_by(ProgressEntry.id)))


def _entry_ids(clinic: Clinic) -> list[int]:
    return [e.id for e in _entries(clinic)]


def _photo_files(clinic: Clinic) -> list[str]:
    """The photos kept (in the database: a refused upload must leave none)."""
    with clinic.store.session() as db:
        return sorted(db.scalars(select(PhotoBlob.sha256)))


def test_a_decompression_bomb_is_refused_through_the_api_naming_photo_pixels_and_rule(
    sqlite_clinic: Clinic, bomb: bytes
) -> None:
    before = (_entry_ids(sqlite_clinic), _photo_files(sqlite_clinic))
    assert len(bomb) < 300_000  # a small file: its cost is in what it claims to hold
    response = _api_upload(sqlite_clinic, "practitioner", bomb)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "photo"]
    assert error["input"] == "13300 x 13300 pixels (176,890,000 pixels)"
    assert f"at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels" in error["msg"]
    assert "before decoding" in error["msg"]
    assert (_entry_ids(sqlite_clinic), _photo_files(sqlite_clinic)) == before


def test_a_decompression_bomb_is_refused_on_the_page_form_with_the_rule(
    sqlite_clinic: Clinic, bomb: bytes
) -> None:
    before = (_entry_ids(sqlite_clinic), _photo_files(sqlite_clinic))
    response = _page_upload(sqlite_clinic, "practitioner", bomb)
    assert response.status_code == 422
    assert "176,890,000 pixels" in response.text
    assert f"at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels" in response.text
    assert (_entry_ids(sqlite_clinic), _photo_files(sqlite_clinic)) == before


def test_the_pixel_count_is_judged_before_any_pixel_is_decoded(sqlite_clinic: Clinic) -> None:
    """A header with no pixel data behind it: decoding it would fail as "not a JPEG or PNG", so
    a refusal that names the pixels came from the header alone; under the limit, the same
    empty file reaches the decoder and fails there."""
    over = _api_upload(sqlite_clinic, "practitioner", png_header_only(20_000, 20_000))
    assert over.status_code == 422
    assert "megapixels" in over.json()["detail"][0]["msg"]
    under = _api_upload(sqlite_clinic, "practitioner", png_header_only(4_000, 3_000))
    assert under.status_code == 422
    assert under.json()["detail"][0]["msg"] == "must be a JPEG or PNG image"


def test_other_requests_carry_on_while_a_large_photo_is_processed(sqlite_clinic: Clinic) -> None:
    """49 megapixels, just under the limit, takes a second or more to decode and scale: in the
    thread pool, so the event loop answers meanwhile."""
    large = photo("PNG", (7_000, 7_000))
    answered: dict[str, httpx.Response] = {}
    finished = threading.Event()

    def upload() -> None:
        try:
            answered["upload"] = _api_upload(sqlite_clinic, "practitioner", large, "big.png")
        finally:
            finished.set()

    uploader = threading.Thread(target=upload)
    waits: list[float] = []
    with sqlite_clinic.api() as probe:
        probe.get("/healthz")  # connected before the upload starts
        alone = [_timed_get(probe, "/healthz") for _ in range(15)]
        uploader.start()
        while not finished.wait(0.05):  # every probe starts while the upload is under way
            started = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - started)
    uploader.join()
    assert answered["upload"].status_code == 201, answered["upload"].text
    assert len(waits) >= 3, f"only {len(waits)} answers came while the photo was processed"
    # on the event loop, the work would hold a request for all of its seconds; in the thread
    # pool answers keep coming, the median a bounded multiple of the same request alone (one
    # answer of many may still lose the CPU for a moment on two busy cores, never for the
    # length of the work)
    assert _median(waits) / _median(alone) < _SLOWER_AT_MOST, (alone, waits)
    assert max(waits) < 1.0, waits


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    assert client.get(path).status_code == 200
    return time.perf_counter() - started


# a request answered meanwhile may be this many times slower than alone: generous, since two
# busy cores share the server, the uploading threads and the test; a bomb decoded on the event
# loop (or a refusal that waited for the pixels) would hold every request for seconds instead
_SLOWER_AT_MOST = 25


def test_bombs_are_refused_at_once_and_other_requests_answer_meanwhile(
    sqlite_clinic: Clinic, bomb: bytes
) -> None:
    """Bomb uploads in three threads, over and over; a signed-in API request sampled meanwhile
    against the same request measured alone, in this test, on this machine."""
    with sqlite_clinic.api("practitioner") as probe:
        for _ in range(3):  # connected and warm before anything is measured
            _timed_get(probe, "/api/v1/me")
        alone = [_timed_get(probe, "/api/v1/me") for _ in range(15)]
        stop = threading.Event()
        refusals: list[tuple[int, float]] = []

        def keep_uploading() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                status = _api_upload(sqlite_clinic, "practitioner", bomb).status_code
                refusals.append((status, time.perf_counter() - started))

        uploaders = [threading.Thread(target=keep_uploading) for _ in range(3)]
        for thread in uploaders:
            thread.start()
        try:
            while len(refusals) < 3:  # every sample below is taken while uploads are under way
                time.sleep(0.01)
            meanwhile = [_timed_get(probe, "/api/v1/me") for _ in range(15)]
        finally:
            stop.set()
            for thread in uploaders:
                thread.join(30)
    assert {status for status, _ in refusals} == {422}
    assert max(took for _, took in refusals) < 1.0, refusals
    ratio = _median(meanwhile) / _median(alone)
    assert ratio < _SLOWER_AT_MOST, (ratio, alone, meanwhile)
    assert max(meanwhile) < 1.0, meanwhile


def test_photos_are_decoded_a_few_at_a_time_and_a_bomb_never_waits_for_them(
    sqlite_clinic: Clinic, bomb: bytes
) -> None:
    """Every decoding slot taken (as by large photos being processed): a bomb is still refused
    at once, from its header; a real photo waits for a slot and is kept when one frees."""
    from microamp.web import uploads

    held = [uploads._decoding.acquire(timeout=30) for _ in range(uploads.PHOTOS_AT_ONCE)]
    assert all(held)
    waiting: dict[str, httpx.Response] = {}
    kept = threading.Thread(
        target=lambda: waiting.update(r=_api_upload(sqlite_clinic, "practitioner", photo()))
    )
    try:
        kept.start()
        refused = _api_upload(sqlite_clinic, "practitioner", bomb)
        assert refused.status_code == 422
        kept.join(1.0)
        assert kept.is_alive(), "a photo was decoded while every slot was taken"
    finally:
        for _ in held:
            uploads._decoding.release()
    kept.join(30)
    assert waiting["r"].status_code == 201


@pytest.mark.parametrize("way", ["page", "api"])
def test_a_photo_is_kept_scaled_down_private_and_without_its_metadata(
    sqlite_clinic: Clinic, way: str
) -> None:
    upload = _page_upload if way == "page" else _api_upload
    big = photo("JPEG", (3_000, 1_500), exif=True)
    response = upload(sqlite_clinic, "practitioner", big, "face.jpg")
    assert response.status_code == (303 if way == "page" else 201), response.text
    entry = _entries(sqlite_clinic)[-1]
    with sqlite_clinic.store.session() as db:
        stored = entry_photo(db, entry)
    assert stored is not None and entry.photo_path is None  # in the database (a 0600 file)
    with Image.open(io.BytesIO(stored.data)) as kept:
        assert kept.size == (MAX_STORED_EDGE_PX, MAX_STORED_EDGE_PX // 2)
        assert dict(kept.getexif()) == {}
    if way == "api":
        body = response.json()
        assert (body["width_px"], body["height_px"]) == kept.size
        assert body["photo_sha256"] == entry.photo_sha256


def test_an_api_upload_is_audited_as_the_page_form_is(sqlite_clinic: Clinic) -> None:
    response = _api_upload(sqlite_clinic, "owner", photo("PNG", (20, 20)))
    assert response.status_code == 201
    with sqlite_clinic.store.session() as db:
        row = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert row is not None
    cleared = sqlite_clinic.clients["cleared"]
    assert (row.action, row.resource, row.actor) == (
        "write", f"client:{cleared}/progress", sqlite_clinic.emails["owner"],
    )  # fmt: skip
    assert row.detail["entry_id"] == response.json()["id"]


def test_reception_may_not_add_a_photo_by_either_path(sqlite_clinic: Clinic) -> None:
    before = _entry_ids(sqlite_clinic)
    assert _api_upload(sqlite_clinic, "reception", photo()).status_code == 403
    assert _page_upload(sqlite_clinic, "reception", photo()).status_code == 403
    assert _entry_ids(sqlite_clinic) == before


def test_a_photo_for_a_client_that_does_not_exist_is_404(sqlite_clinic: Clinic) -> None:
    with sqlite_clinic.api("practitioner") as api:
        response = api.post(
            "/api/v1/clients/999999/photos", files={"photo": ("a.jpg", photo(), "image/jpeg")}
        )
    assert response.status_code == 404


@pytest.mark.parametrize("content", [b"", b"%PDF-1.7 not a photo", b"\x89PNG\r\n\x1a\nshort"])
def test_an_api_upload_that_is_not_a_photo_is_422_naming_photo(
    sqlite_clinic: Clinic, content: bytes
) -> None:
    response = _api_upload(sqlite_clinic, "practitioner", content)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "photo"]


# -- passwords ----------------------------------------------------------------------------------


def _setup_with(client: httpx.Client, token: str, password: str) -> httpx.Response:
    form = {"clinic_name": "Lima Skin Studio", "time_zone": "Europe/Lisbon",
            "display_name": "Ana Lima", "email": "ana@lima.example",
            "password": password, "password_again": password}  # fmt: skip
    csrf = csrf_of(client.get("/signin").text)
    return client.post(f"/setup/{token}", data={**form, "csrf_token": csrf})


def test_the_setup_page_refuses_a_guessable_password_saying_why(tmp_path: Path) -> None:
    with clinic_on(f"sqlite:///{tmp_path / 'clinic.db'}", tmp_path, seeded=False) as empty:
        with empty.store.transaction() as db:
            token = issue_setup_token(db, now=utc_now()).token
        with empty.browser_client() as client:
            weak = _setup_with(client, token, "1234567890")
            assert weak.status_code == 422
            assert "password-hint password-error" in weak.text
            assert "too easy to guess" in weak.text and "common password" in weak.text
            # strong on its own, guessable from the clinic's and the owner's names
            assert _setup_with(client, token, "Lima Skin Studio").status_code == 422
            with empty.store.session() as db:
                assert db.scalars(select(User)).first() is None
            assert _setup_with(client, token, "a long owner password").status_code == 200


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234567890", "top-100 common password"),
        ("qwertyuiop12", "similar to a commonly used password"),
        ("Nurse@Clinic.example", "too easy to guess"),  # the account's own address
    ],
)
def test_users_add_refuses_a_guessable_password_with_exit_2(
    tmp_path: Path, password: str, why: str
) -> None:
    from typer.testing import CliRunner

    from microamp.cli.main import app

    url = f"sqlite:///{tmp_path / 'users.db'}"
    args = ["users", "add", "nurse@clinic.example", "--password-stdin", "--database", url]
    refused = CliRunner().invoke(app, args, input=password + "\n")
    assert refused.exit_code == 2
    assert "password: is too easy to guess" in refused.stderr and why in refused.stderr
    assert "Traceback" not in refused.output
    accepted = CliRunner().invoke(app, args, input="a long tour password\n")
    assert accepted.exit_code == 0, accepted.output
