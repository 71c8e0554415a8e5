"""Store settings refuse unsafe values; telemetry packing is lossless to float32 and small."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from microamp.errors import InvalidValue, InvalidValues
from microamp.store import load_settings, normalise_url
from microamp.store.telemetry import COLUMNS, TelemetryBuffer, downsample, pack_rows, unpack_rows


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:secret@h:5433/db", "postgresql+psycopg://u:secret@h:5433/db"),
        ("sqlite:////var/lib/microamp/records.db", "sqlite:////var/lib/microamp/records.db"),
    ],
)
def test_database_urls_are_normalised_to_the_shipped_drivers(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db", "nonsense"])
def test_unsafe_or_unknown_database_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_url(url)
    assert caught.value.field == "database"


def test_the_url_comes_from_the_option_then_the_environment_then_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MICROAMP_DATABASE_URL", raising=False)
    monkeypatch.setenv("MICROAMP_DATA_DIR", str(tmp_path))
    assert load_settings().resolved_url() == f"sqlite:///{tmp_path / 'microamp.db'}"
    monkeypatch.setenv("MICROAMP_DATABASE_URL", "postgres://u@h/env")
    assert load_settings().resolved_url() == "postgresql+psycopg://u@h/env"
    assert load_settings().resolved_url("sqlite:////x/given.db") == "sqlite:////x/given.db"


def test_unsafe_settings_are_refused_naming_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROAMP_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("MICROAMP_TELEMETRY_FLUSH_S", "600")
    with pytest.raises(InvalidValues) as caught:
        load_settings(telemetry_hz=0)
    assert {e.field for e in caught.value.errors} == {
        "database",
        "telemetry_hz",
        "telemetry_flush_s",
    }


def test_packing_round_trips_float32_and_keeps_nan() -> None:
    rng = np.random.default_rng(7)
    rows = rng.normal(200, 5, size=(123, len(COLUMNS)))
    rows[5, 5] = math.nan
    back = unpack_rows(pack_rows(rows), len(rows))
    assert np.allclose(back, rows.astype(np.float32), equal_nan=True)
    assert math.isnan(back[5, 5])


def test_downsampling_averages_per_bucket_and_keeps_the_peak() -> None:
    t = np.arange(0, 1.0, 0.01)
    rows = np.column_stack(
        [t, np.full_like(t, 200), np.linspace(0, 99, 100), np.arange(100.0), t, t]
    )
    rows[10, 5] = math.nan
    out = downsample(rows, 4.0)
    assert len(out) == 4
    assert out[0, 2] == pytest.approx(np.mean(np.linspace(0, 99, 100)[:25]))
    assert out[0, 3] == 24.0  # the bucket's peak, not its mean
    assert not math.isnan(out[0, 5])  # one missing impedance does not blank the bucket


def test_a_bucket_is_never_split_between_chunks() -> None:
    buffer = TelemetryBuffer(rate_hz=1.0)
    for i in range(15):
        buffer.add(
            {
                "t_s": i * 0.1,
                "commanded_ua": 1,
                "delivered_ua": 1,
                "peak_ua": 1,
                "voltage_v": 1,
                "impedance_ohm": 1,
            }
        )
    first = buffer.take()
    last = buffer.take(final=True)
    assert first is not None and last is not None
    assert (first.source_frames, last.source_frames) == (10, 5)
    assert (first.rows, last.rows) == (1, 1)
