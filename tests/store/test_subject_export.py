"""A person's full export: one ZIP whose record JSON, FHIR Bundle, consent PDFs, photos, session
charts and summary page are her record's own, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from sqlalchemy import select

from microamp.errors import NotFound
from microamp.store import SessionRecorder, Store
from microamp.store.models import ProgressEntry
from microamp.store.photo_blobs import entry_photo
from microamp.store.previsit import PrevisitSubmission
from microamp.store.subject_export import ARCHIVE_FORMAT, write_person_archive
from store.test_fhir import DOSES, MEASURES, seed_client

TELEMETRY_FRAMES = 40


def _session_with_telemetry(store: Store, ids: dict[str, Any]) -> int:
    recorder = SessionRecorder.start(store, protocol_name="lift", client_id=ids["client"],
                                     practitioner_id=ids["user"], device_url="sim://?load=gel")  # fmt: skip
    for i in range(TELEMETRY_FRAMES):
        recorder.record_telemetry({"t_s": i * 0.5, "commanded_ua": 200.0, "delivered_ua": 190.0,
                                   "peak_ua": 240.0 + i, "voltage_v": 2.0,
                                   "impedance_ohm": 10_000.0 + i})  # fmt: skip
    recorder.flush_telemetry(final=True)
    recorder.finish("completed", dose_by_zone={"chin": {"zone": "chin", "charge_uc": 7.5,
                    "stimulation_s": 20.0, "mean_current_ua": 0.375,
                    "mean_impedance_ohm": 10_019.5}})  # fmt: skip
    return recorder.session_id


def _archive(store: Store, client_id: int) -> tuple[zipfile.ZipFile, list[str]]:
    heard: list[str] = []
    out = io.BytesIO()
    with store.transaction() as db:
        write_person_archive(db, client_id=client_id, out=out, progress=heard.append)
    return zipfile.ZipFile(io.BytesIO(out.getvalue())), heard


@pytest.fixture
def seeded(store: Store) -> dict[str, Any]:
    ids = seed_client(store)
    ids["charted"] = _session_with_telemetry(store, ids)
    return ids


def test_the_record_json_holds_every_delivered_figure(store: Store, seeded: dict[str, Any]) -> None:
    archive, heard = _archive(store, seeded["client"])
    record = json.loads(archive.read("record.json"))
    assert record["format"] == ARCHIVE_FORMAT
    assert record["client"]["full_name"] == "Inês Duarte"
    assert [v["version"] for v in record["screenings"]] == [1, 2]  # intake and pre-visit form
    assert len(record["consents"]) == 2
    sessions = {s["id"]: s for s in record["sessions"]}
    assert list(sessions) == [*seeded["records"], seeded["charted"]]
    for session_id, dose in zip(seeded["records"], DOSES, strict=True):
        assert sessions[session_id]["dose_by_zone"] == dose
    assert sessions[seeded["charted"]]["dose_by_zone"]["chin"]["charge_uc"] == 7.5
    assert [a["id"] for a in record["appointments"]] == [seeded["visit"]]
    assert record["appointments"][0]["room"] == "Room A"
    (photo,) = record["photos"]
    assert photo["measurement"]["measures"] == MEASURES
    assert "photos written" in heard and "summary page written" in heard


def test_the_fhir_bundle_validates_and_carries_the_same_dose(
    store: Store, seeded: dict[str, Any]
) -> None:
    archive, _ = _archive(store, seeded["client"])
    bundle = Bundle.model_validate(json.loads(archive.read("fhir-bundle.json")))
    observations = {e.resource.id: e.resource for e in bundle.entry or []
                    if e.resource.get_resource_type() == "Observation"}  # fmt: skip
    first = seeded["records"][0]
    assert float(observations[f"{first}-cheeks-charge"].valueQuantity.value) == 812.25  # type: ignore[attr-defined]
    assert float(observations[f"{seeded['charted']}-chin-impedance"].valueQuantity.value) == (  # type: ignore[attr-defined]
        10_019.5
    )


def test_photos_consents_and_charts_are_the_records_own(
    store: Store, seeded: dict[str, Any]
) -> None:
    archive, _ = _archive(store, seeded["client"])
    names = archive.namelist()
    with store.transaction() as db:
        entry = db.get(ProgressEntry, seeded["photo"])
        assert entry is not None
        stored = entry_photo(db, entry)
        assert stored is not None
        kept_pdf = db.scalars(select(PrevisitSubmission.pdf)).one()
    (photo_name,) = [n for n in names if n.startswith("photos/")]
    assert archive.read(photo_name) == stored.data
    pdfs = sorted(n for n in names if n.startswith("consents/"))
    assert len(pdfs) == 2
    assert archive.read(pdfs[1]) == kept_pdf  # the pre-visit form, byte for byte
    typed = PdfReader(io.BytesIO(archive.read(pdfs[0])))
    assert "Inês Duarte" in typed.pages[0].extract_text()
    # only the session that recorded telemetry has a chart
    assert [n for n in names if n.startswith("charts/")] == [
        f"charts/session-{seeded['charted']}.svg"
    ]
    chart = archive.read(f"charts/session-{seeded['charted']}.svg").decode()
    assert chart.startswith("<svg") and "impedance (max 10 kΩ)" in chart


def test_the_summary_page_names_every_file_and_figure(store: Store, seeded: dict[str, Any]) -> None:
    archive, _ = _archive(store, seeded["client"])
    page = archive.read("index.html").decode()
    assert page.startswith('<!DOCTYPE html><html lang="en">')
    assert "<caption>What the device delivered in session" in page
    assert ">812.25<" in page and ">11250.5<" in page
    for name in archive.namelist():
        if name != "index.html":
            assert f'href="{name}"' in page


def test_a_formula_or_markup_in_her_name_is_text_on_the_page(store: Store) -> None:
    ids = seed_client(store)
    with store.transaction() as db:
        from microamp.store.models import Client

        client = db.get(Client, ids["client"])
        assert client is not None
        client.full_name = "<script>alert(1)</script>"
    archive, _ = _archive(store, ids["client"])
    page = archive.read("index.html").decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_such_client_is_not_found_before_a_byte_is_written(store: Store) -> None:
    out = io.BytesIO()
    with store.transaction() as db, pytest.raises(NotFound):
        write_person_archive(db, client_id=9999, out=out)
    assert out.getvalue() == b""
