"""Uploads: a photo over its limit, or a file that is not a JPEG or PNG, is refused with a
message naming the limit or the rule, and leaves nothing behind: no file in the photos
directory, no progress entry, no audit row of a write. Other bodies have a limit of their own."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from microamp.store.access import AuditEntry
from microamp.store.models import ProgressEntry
from microamp.store.photo_blobs import PhotoBlob
from microamp.store.photos import MAX_PHOTO_BYTES
from microamp.web.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES
from web.conftest import Clinic, csrf_of

BOUNDARY = "microamp-test-boundary"


@pytest.fixture
def practitioner(sqlite_clinic: Clinic) -> Iterator[httpx.Client]:
    client = sqlite_clinic.browser_client("practitioner")
    try:
        yield client
    finally:
        client.close()


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 90)).save(out, format=kind)
    return out.getvalue()


def _progress_url(clinic: Clinic) -> str:
    return f"/clients/{clinic.clients['cleared']}/progress"


def _post_photo(
    clinic: Clinic, client: httpx.Client, photo: bytes, filename: str, content_type: str
) -> httpx.Response:
    token = csrf_of(client.get(f"/clients/{clinic.clients['cleared']}").text)
    return client.post(
        _progress_url(clinic),
        data={"csrf_token": token, "taken_on": "2026-01-05", "notes": "upload test"},
        files={"photo": (filename, photo, content_type)},
    )


def _left_behind(clinic: Clinic) -> tuple[int, int, list[str]]:
    """(progress entries, audited progress writes, photos kept, and no file on disk)."""
    with clinic.store.session() as db:
        entries = db.scalar(select(func.count()).select_from(ProgressEntry)) or 0
        writes = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "write", AuditEntry.resource.like("%/progress"))
        )  # fmt: skip
        kept = sorted(db.scalars(select(PhotoBlob.sha256)))
    assert not clinic.store.settings.photos_dir.exists()
    return entries, writes or 0, kept


def test_a_photo_over_the_limit_is_refused_before_it_is_read(
    sqlite_clinic: Clinic, practitioner: httpx.Client
) -> None:
    before = _left_behind(sqlite_clinic)
    big = _image("PNG") + b"\0" * MAX_UPLOAD_BYTES
    response = _post_photo(sqlite_clinic, practitioner, big, "huge.png", "image/png")
    assert response.status_code == 413
    assert f"at most {MAX_PHOTO_BYTES // 2**20} MB" in response.text
    assert _left_behind(sqlite_clinic) == before


def test_a_chunked_upload_is_cut_off_at_the_limit(
    sqlite_clinic: Clinic, practitioner: httpx.Client
) -> None:
    """Without a Content-Length the body is counted as it arrives."""
    before = _left_behind(sqlite_clinic)
    token = csrf_of(practitioner.get(f"/clients/{sqlite_clinic.clients['cleared']}").text)
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="taken_on"\r\n\r\n2026-01-05\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        chunk = b"\0" * 2**20
        for _ in range(MAX_UPLOAD_BYTES // len(chunk) + 2):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = practitioner.post(
        _progress_url(sqlite_clinic),
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    assert "MB" in response.text
    assert _left_behind(sqlite_clinic) == before


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("photo.gif", _image("GIF"), "image/gif"),
        ("photo.tiff", _image("TIFF"), "image/tiff"),
        ("photo.jpg", b"%PDF-1.7 not a photo at all", "image/jpeg"),
        ("notes.txt", b"just text", "text/plain"),
    ],
)
def test_a_file_that_is_not_a_jpeg_or_png_is_refused_by_name(
    sqlite_clinic: Clinic,
    practitioner: httpx.Client,
    filename: str,
    content: bytes,
    content_type: str,
) -> None:
    before = _left_behind(sqlite_clinic)
    response = _post_photo(sqlite_clinic, practitioner, content, filename, content_type)
    assert response.status_code == 422
    assert "JPEG or PNG" in response.text
    assert _left_behind(sqlite_clinic) == before


def test_a_small_png_is_kept_once(sqlite_clinic: Clinic, practitioner: httpx.Client) -> None:
    entries, writes, files = _left_behind(sqlite_clinic)
    response = _post_photo(sqlite_clinic, practitioner, _image("PNG"), "face.png", "image/png")
    assert response.status_code == 303
    after = _left_behind(sqlite_clinic)
    assert after[:2] == (entries + 1, writes + 1)
    assert len(after[2]) == len(files) + 1


def test_an_api_body_over_its_limit_is_413_naming_the_limit(sqlite_clinic: Clinic) -> None:
    with sqlite_clinic.api("owner") as api:
        response = api.post(
            "/api/v1/clients",
            json={"full_name": "x" * MAX_BODY_BYTES, "date_of_birth": "1990-01-01"},
        )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"the request body is too large: at most {MAX_BODY_BYTES // 1024} KB"
    }
