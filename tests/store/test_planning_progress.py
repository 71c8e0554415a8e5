"""Plans, prices, packages, progress entries and photos, on both databases."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from microamp.clinic.plans import plan_course
from microamp.errors import InvalidValue, NotFound
from microamp.store import (
    SessionRecorder,
    Store,
    add_package,
    add_progress_entry,
    checkin_due,
    create_client,
    estimate_plan_cost,
    get_plan,
    get_price,
    save_plan,
    set_price,
    strip_metadata,
)
from microamp.store.photo_blobs import entry_photo
from microamp.store.session_models import TreatmentSession

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def client_id(store: Store) -> int:
    with store.transaction() as session:
        return create_client(session, full_name="Ana Lima", date_of_birth=date(1990, 4, 12)).id


def phone_photo(fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", (40, 20), (200, 120, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[ORIENTATION_TAG] = 6  # rotated 90° clockwise
    exif[GPS_TAG] = {2: (38.0, 43.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def test_a_plan_is_kept_with_its_appointments(store: Store) -> None:
    cid = client_id(store)
    plan = plan_course("clinic-initial", start=date(2026, 11, 23), months=3)
    with store.transaction() as session:
        row = save_plan(
            session,
            client_id=cid,
            plan=plan,
            protocol_name="lift",
            price_per_session=Decimal("120.50"),
        )
        plan_id = row.id
    with store.session() as session:
        stored = get_plan(session, plan_id=plan_id)
        assert [a.on_date for a in stored.appointments] == [s.on_date for s in plan.sessions]
        assert [a.number for a in stored.appointments if a.checkin] == [5]
        assert stored.price_per_session_cents == 12050
        assert stored.weekdays == ["mon", "thu"]
        with pytest.raises(NotFound):
            get_plan(session, plan_id=plan_id + 1)


def test_prices_and_packages_give_the_cost_of_a_plan(store: Store) -> None:
    plan = plan_course("weekly-series", start=date(2026, 11, 23), months=6)
    with store.transaction() as session:
        with pytest.raises(NotFound):
            get_price(session, protocol_name="lift")
        set_price(session, protocol_name="lift", amount=Decimal("100"))
        set_price(session, protocol_name="lift", amount=Decimal("110"), currency="eur")
        add_package(
            session,
            name="Series of 12",
            sessions=12,
            discount_pct=Decimal("15"),
            protocol_name="lift",
        )
        add_package(
            session, name="Other", sessions=2, discount_pct=Decimal("50"), protocol_name="neck"
        )
        with pytest.raises(InvalidValue, match="currency"):
            set_price(session, protocol_name="lift", amount=Decimal("1"), currency="euro")
    with store.session() as session:
        assert get_price(session, protocol_name="lift") == Decimal("110.00")
        estimate = estimate_plan_cost(session, plan=plan, protocol_name="lift")
    singles = len(plan.sessions) - 12
    assert estimate.total == Decimal("1122.00") + 110 * singles
    assert estimate.packages == (("Series of 12", 1),)


def test_photos_lose_their_metadata_and_are_kept_upright(store: Store, tmp_path: Path) -> None:
    cid = client_id(store)
    with store.transaction() as session:
        entry = add_progress_entry(
            session,
            client_id=cid,
            taken_on=date(2026, 12, 7),
            today=date(2026, 12, 7),
            photo=phone_photo(),
            ratings={"firmness": 6, "satisfaction": 8},
        )
    assert entry.photo_path is None  # kept in the database, not on this host's disk
    with store.session() as session:
        saved = entry_photo(session, entry)
    assert saved is not None and saved.media_type == "image/jpeg"
    assert hashlib.sha256(saved.data).hexdigest() == entry.photo_sha256
    with Image.open(io.BytesIO(saved.data)) as image:
        assert not image.getexif()
        assert image.size == (20, 40)  # rotated by its orientation before the tag was dropped
        assert "exif" not in image.info


def test_png_photos_stay_png_without_metadata() -> None:
    clean, suffix = strip_metadata(phone_photo("PNG"))
    assert suffix == ".png"
    with Image.open(io.BytesIO(clean)) as image:
        assert not image.getexif()


def test_bad_photos_and_ratings_are_refused(store: Store, tmp_path: Path) -> None:
    cid = client_id(store)
    with store.transaction() as session:
        with pytest.raises(InvalidValue, match="photo"):
            add_progress_entry(
                session,
                client_id=cid,
                taken_on=date(2026, 12, 7),
                today=date(2026, 12, 7),
                photo=b"GIF89a",
            )
        with pytest.raises(InvalidValue, match=r"ratings\.firmness"):
            add_progress_entry(
                session,
                client_id=cid,
                taken_on=date(2026, 12, 7),
                today=date(2026, 12, 7),
                ratings={"firmness": 11},
            )


def test_a_check_in_is_due_after_the_fifth_completed_session(store: Store, tmp_path: Path) -> None:
    cid = client_id(store)
    for n in range(5):
        with store.session() as session:
            assert not checkin_due(session, client_id=cid)
        recorder = SessionRecorder.start(store, protocol_name="lift", client_id=cid)
        recorder.finish("completed")
        with store.transaction() as session:
            # sessions a few days apart, in order
            record = session.get(TreatmentSession, recorder.session_id)
            assert record is not None
            record.ended_at = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(days=3 * n)
    with store.transaction() as session:
        assert checkin_due(session, client_id=cid)
        add_progress_entry(
            session,
            client_id=cid,
            taken_on=date(2026, 12, 7),
            today=date(2026, 12, 7),
            ratings={"firmness": 5},
        )
    with store.session() as session:
        assert not checkin_due(session, client_id=cid)
