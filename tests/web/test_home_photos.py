"""Her progress photo from the home app over HTTP: a frame within tolerance is measured and
kept on her client record, as a clinic photo is (her clinic reads it, its audit row names her
home account); a frame without her agreement, out of tolerance, too large, of too many pixels
or not a photo is refused naming the field and nothing is kept; only this page may ask for
the camera; another person's photo is not hers to see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from microamp.store.access import AuditEntry
from microamp.store.crud import create_client
from microamp.store.home import HOME_PHOTO_NOTE, home_account
from microamp.store.models import ProgressEntry
from microamp.store.outcomes import client_outcomes, client_photos
from microamp.store.photos import MAX_PHOTO_BYTES, add_progress_entry
from microamp.web.headers import permissions_policy
from support import faces
from support.images import png_bomb
from web.home_served import HOME_PASSWORD, Home, home_on

pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with home_on(tmp_path_factory.mktemp("home-photos")) as served:
        yield served


@pytest.fixture(scope="module")
def phone(home: Home) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=home.url, timeout=60) as client:
        token = _csrf(client.get("/welcome").text)
        made = client.post("/welcome", data={
            "csrf_token": token, "display_name": "Ines Duarte", "date_of_birth": "1979-02-03",
            "password": HOME_PASSWORD, "password_again": HOME_PASSWORD,
        })  # fmt: skip
        assert made.status_code == 303
        yield client, token


def _csrf(html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found
    return found.group(1)


def _her_photos(home: Home) -> list[ProgressEntry]:
    with home.store.session() as db:
        account = home_account(db)
        assert account is not None
        return client_photos(db, client_id=account.client_id)


def _send(
    phone: tuple[httpx.Client, str],
    content: bytes,
    *,
    consent: str = "yes",
    json: bool = True,
    view: str = "front",
) -> httpx.Response:
    client, token = phone
    return client.post(
        "/photo",
        data={"csrf_token": token, "view": view, "photo_use_consent": consent},
        files={"photo": ("capture.jpg", content, "image/jpeg")},
        headers={"Accept": "application/json"} if json else {},
    )


def test_a_frame_within_tolerance_is_measured_and_kept_on_her_clinic_record(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    before = len(_her_photos(home))
    kept = _send(phone, faces.jpeg(faces.astronaut()))
    assert kept.status_code == 201, kept.text
    answer = kept.json()
    assert answer["kept"] is True and answer["measures"]["brow_height_left_mm"] > 0
    photos = _her_photos(home)
    assert len(photos) == before + 1
    entry = next(p for p in photos if p.id == answer["entry_id"])
    assert entry.view == "front" and entry.photo_use_consent is True
    assert entry.taken_on == home.days.today and entry.notes == HOME_PHOTO_NOTE
    assert entry.measurement is not None and entry.measurement["comparable"] is True
    with home.store.session() as db:
        # the clinic's own reading of her record: the outcome page's photos and the audit log
        found = client_outcomes(db, client_id=entry.client_id, view="front")
        assert entry.id in [p.entry_id for p in found.photos]
        written = db.scalars(
            select(AuditEntry).where(AuditEntry.resource == f"client:{entry.client_id}/progress")
        ).all()
        assert [a.actor for a in written][-1].startswith("home:")
        assert written[-1].detail["entry_id"] == entry.id
    # the camera page now lays this photo over the preview, and serves it to her
    page = client.get("/photo")
    assert f'src="/photo/{entry.id}"' in page.text
    ghost = client.get(f"/photo/{entry.id}")
    assert ghost.status_code == 200 and ghost.headers["content-type"] == "image/jpeg"
    assert ghost.content[:2] == b"\xff\xd8"
    # and her results beside her adherence chart the new measure
    assert "Brow height, left" in client.get("/").text


@pytest.mark.parametrize(
    ("case", "field", "says"),
    [
        ("no agreement", "photo_use_consent", "you must agree to this photo being kept"),
        ("not a photo", "photo", "must be a JPEG or PNG image"),
        ("too large", "photo", f"must be at most {MAX_PHOTO_BYTES} bytes"),
        ("too many pixels", "photo", "must be at most 50 megapixels"),
        ("head tilted", "photo", "roll (head tilt)"),
        ("no face", "photo", "no face"),
        ("no file", "photo", "take a photo with the camera or choose a file"),
        ("a side view", "view", "front, left45, right45"),
    ],
)
def test_a_refused_frame_names_its_field_and_nothing_is_kept(
    home: Home, phone: tuple[httpx.Client, str], case: str, field: str, says: str
) -> None:
    image = faces.astronaut()
    content = {
        "no agreement": faces.jpeg(image),
        "not a photo": b"%PDF-1.4 certainly not a picture",
        "too large": b"\xff\xd8" + bytes(MAX_PHOTO_BYTES),
        "too many pixels": png_bomb(),
        "head tilted": faces.jpeg(faces.similar(image, scale=1, rotation_deg=15, shift_px=(0, 0))),
        "no face": faces.jpeg(faces.no_face()),
        "no file": b"",
        "a side view": faces.jpeg(image),
    }[case]
    before = len(_her_photos(home))
    answer = _send(phone, content, consent="" if case == "no agreement" else "yes",
                   view="sideways" if case == "a side view" else "front")  # fmt: skip
    assert answer.status_code == 422, answer.text
    refused = answer.json()
    assert refused["kept"] is False and refused["field"] == field
    assert says in refused["retake"].lower() or says in refused["retake"]
    assert len(_her_photos(home)) == before


def test_a_chosen_file_refused_shows_the_page_again_with_the_field_in_error(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    answer = _send(phone, b"GIF89a not accepted", json=False)
    assert answer.status_code == 422
    assert 'data-testid="error-summary"' in answer.text
    assert 'href="#photo">Photo: must be a JPEG or PNG image' in answer.text
    assert 'id="photo-error"' in answer.text and 'aria-invalid="true"' in answer.text


def test_a_chosen_file_kept_says_so_on_the_page(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    answer = _send(phone, faces.jpeg(faces.astronaut()), json=False)
    assert answer.status_code == 303
    assert re.fullmatch(r"/photo\?view=front&kept=\d+", answer.headers["location"])
    shown = client.get(answer.headers["location"])
    assert "is kept on your record and measured" in shown.text


def test_only_the_photo_page_may_ask_for_the_camera(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    assert "camera=(self)" in client.get("/photo").headers["permissions-policy"]
    for path in ("/", "/settings", "/guide/home-express", "/static/capture.js", "/photo/1"):
        assert "camera=()" in client.get(path).headers["permissions-policy"], path
    # the clinic's own policy is untouched: its capture page alone
    assert "camera=(self)" in permissions_policy("/clients/4/capture")
    assert "camera=()" in permissions_policy("/photo")


def test_another_persons_photo_is_not_hers_to_see(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, _token = phone
    with home.store.transaction() as db:
        other = create_client(db, full_name="Someone Else", date_of_birth=date(1970, 1, 1),
                              today=home.days.today)  # fmt: skip
        entry = add_progress_entry(db, client_id=other.id, taken_on=home.days.today,
                                   today=home.days.today, photo=faces.jpeg(faces.astronaut()))  # fmt: skip
        entry_id = entry.id
    assert client.get(f"/photo/{entry_id}").status_code == 404
    assert client.get(f"/photo?kept={entry_id}").status_code == 200
    assert "is kept on your record" not in client.get(f"/photo?kept={entry_id}").text


def test_no_photo_is_kept_without_her_sign_in_or_the_phones_token(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    _client, token = phone
    before = len(_her_photos(home))
    with httpx.Client(base_url=home.url, timeout=30) as stranger:
        answer = stranger.post("/photo", data={"csrf_token": token, "photo_use_consent": "yes"},
                               files={"photo": ("a.jpg", faces.jpeg(faces.astronaut()))})  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    forged = _send((phone[0], "not-the-token"), faces.jpeg(faces.astronaut()))
    assert forged.status_code == 403
    assert len(_her_photos(home)) == before


def test_the_same_photo_sent_again_is_the_entry_already_kept(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    # the phone's offline queue resends a photo whose answer it never got: one entry, one audit
    image = faces.jpeg(
        faces.similar(faces.astronaut(), scale=1.01, rotation_deg=1, shift_px=(3, 2))
    )
    first = _send(phone, image)
    assert first.status_code == 201, first.text
    before = len(_her_photos(home))
    again = _send(phone, image)
    assert again.status_code == 201, again.text
    assert again.json()["entry_id"] == first.json()["entry_id"]
    assert len(_her_photos(home)) == before


@pytest.mark.parametrize(
    ("taken_on", "says"),
    [
        ("tomorrow", "a date as YYYY-MM-DD"),
        ("2026-13-01", "a date as YYYY-MM-DD"),
        ("+1", "within the 30 days up to"),
        ("-31", "within the 30 days up to"),
    ],
)
def test_a_photo_kept_offline_on_a_day_out_of_range_is_refused_naming_taken_on(
    home: Home, phone: tuple[httpx.Client, str], taken_on: str, says: str
) -> None:
    client, token = phone
    if taken_on[0] in "+-":
        taken_on = (home.days.today + timedelta(days=int(taken_on))).isoformat()
    before = len(_her_photos(home))
    answer = client.post(
        "/photo",
        data={"csrf_token": token, "view": "front", "photo_use_consent": "yes",
              "taken_on": taken_on},
        files={"photo": ("capture.jpg", faces.jpeg(faces.astronaut()), "image/jpeg")},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    refused = answer.json()
    assert refused["field"] == "taken_on" and refused["label"] == "Taken on"
    assert says in refused["retake"]
    assert len(_her_photos(home)) == before


def test_a_photo_kept_offline_keeps_the_day_it_was_taken(
    home: Home, phone: tuple[httpx.Client, str]
) -> None:
    client, token = phone
    day = home.days.today - timedelta(days=30)
    image = faces.jpeg(
        faces.similar(faces.astronaut(), scale=0.99, rotation_deg=-1, shift_px=(-2, 4))
    )
    answer = client.post(
        "/photo",
        data={"csrf_token": token, "view": "front", "photo_use_consent": "yes",
              "taken_on": day.isoformat()},
        files={"photo": ("capture.jpg", image, "image/jpeg")},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    entry = next(p for p in _her_photos(home) if p.id == answer.json()["entry_id"])
    assert entry.taken_on == day
