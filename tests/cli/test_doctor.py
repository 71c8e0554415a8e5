"""`microamp doctor` on real databases and directories: healthy is exit 0, anything that stops
`microamp serve` is exit 1 and says what to do."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from microamp.cli.main import app
from microamp.store import StoreSettings, head_revision, open_store

runner = CliRunner()


def private_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    return data_dir


def doctor(data_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {"MICROAMP_DATA_DIR": str(data_dir), "MICROAMP_DATABASE_URL": None}
    result = runner.invoke(app, ["doctor", "--json", *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in document["checks"]}


def migrated_sqlite(tmp_path: Path, data_dir: Path) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    open_store(url, settings=StoreSettings(data_dir=data_dir), upgrade=True).close()
    return url


def test_doctor_on_a_healthy_machine_exits_0(tmp_path: Path) -> None:
    data_dir = private_dir(tmp_path)
    url = migrated_sqlite(tmp_path, data_dir)
    code, document = doctor(data_dir, "--database", url)
    checks = by_name(document)
    assert code == 0 and document["healthy"] is True
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["facts"] == {"revision": head_revision(), "head": head_revision()}
    assert checks["data directory"]["status"] == "ok"
    assert checks["data directory"]["facts"]["mode"] == "0700"
    assert checks["simulator"]["status"] == "ok"
    for name in ("python", "microamp", "serial ports", "sound cards", "chromium"):
        assert checks[name]["status"] in ("ok", "note"), checks[name]


def test_doctor_with_an_unreachable_postgresql_exits_1_and_names_it(tmp_path: Path) -> None:
    url = "postgresql+psycopg://clinic:hunter2-secret@127.0.0.1:1/records"
    result = runner.invoke(app, ["doctor", "--database", url],
                           env={"MICROAMP_DATA_DIR": str(private_dir(tmp_path))})  # fmt: skip
    assert result.exit_code == 1
    assert "postgresql+psycopg://clinic:***@127.0.0.1:1/records" in result.stdout
    assert "hunter2" not in result.output
    assert "start PostgreSQL" in result.stdout
    assert "Traceback" not in result.output


def test_doctor_reads_the_database_url_from_the_environment(tmp_path: Path) -> None:
    env = {"MICROAMP_DATA_DIR": str(private_dir(tmp_path)),
           "MICROAMP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/elsewhere"}  # fmt: skip
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "postgresql+psycopg://nobody@127.0.0.1:1/elsewhere" in result.stdout


def test_doctor_before_the_first_run_says_serve_creates_the_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet"
    code, document = doctor(data_dir, "--database", f"sqlite:///{data_dir / 'clinic.db'}")
    checks = by_name(document)
    assert code == 0
    assert checks["database"]["status"] == "note"
    assert "microamp serve" in checks["database"]["fix"]
    assert checks["data directory"]["status"] == "note"
    assert not data_dir.exists(), "the doctor created what it only had to look at"


def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_doctor_asks_for_an_upgrade_of_an_older_database(tmp_path: Path) -> None:
    data_dir = private_dir(tmp_path)
    url = migrated_sqlite(tmp_path, data_dir)
    set_revision(url, "0001")
    code, document = doctor(data_dir, "--database", url)
    migrations = by_name(document)["migrations"]
    assert code == 0  # serve migrates on start
    assert migrations["status"] == "warn" and "microamp db upgrade" in migrations["fix"]


def test_doctor_fails_on_a_database_from_a_newer_microamp(tmp_path: Path) -> None:
    data_dir = private_dir(tmp_path)
    url = migrated_sqlite(tmp_path, data_dir)
    set_revision(url, "9999")
    code, document = doctor(data_dir, "--database", url)
    migrations = by_name(document)["migrations"]
    assert code == 1
    assert migrations["status"] == "fail" and "upgrade microamp" in migrations["fix"]


def test_doctor_warns_of_a_data_directory_others_can_read(tmp_path: Path) -> None:
    data_dir = private_dir(tmp_path)
    os.chmod(data_dir, 0o755)
    code, document = doctor(data_dir, "--database", migrated_sqlite(tmp_path, data_dir))
    check = by_name(document)["data directory"]
    assert code == 0
    assert check["status"] == "warn" and f"chmod 700 {data_dir}" in check["fix"]


def test_doctor_refuses_a_bad_database_option_as_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor", "--database", "sqlite://"],
                           env={"MICROAMP_DATA_DIR": str(private_dir(tmp_path))})  # fmt: skip
    assert result.exit_code == 2
    assert "--database" in result.stderr and "Traceback" not in result.output


def test_doctor_says_the_database_file_is_private_and_warns_when_it_is_not(
    tmp_path: Path,
) -> None:
    data_dir = private_dir(tmp_path)
    url = migrated_sqlite(tmp_path, data_dir)
    code, document = doctor(data_dir, "--database", url)
    check = by_name(document)["database file"]
    assert code == 0 and check["status"] == "ok" and check["facts"]["mode"] == "0600"
    os.chmod(tmp_path / "clinic.db", 0o644)
    code, document = doctor(data_dir, "--database", url)
    check = by_name(document)["database file"]
    assert code == 0 and check["status"] == "warn"
    assert f"chmod 600 {tmp_path / 'clinic.db'}" in check["fix"]


def test_doctor_warns_of_photos_others_can_read(tmp_path: Path) -> None:
    data_dir = private_dir(tmp_path)
    url = migrated_sqlite(tmp_path, data_dir)
    photos = data_dir / "photos" / "1"
    photos.mkdir(parents=True, mode=0o700)
    os.chmod(data_dir / "photos", 0o700)
    kept = photos / "a.jpg"
    kept.write_bytes(b"pixels")
    os.chmod(kept, 0o600)
    assert by_name(doctor(data_dir, "--database", url)[1])["photos"]["status"] == "ok"
    os.chmod(kept, 0o644)
    check = by_name(doctor(data_dir, "--database", url)[1])["photos"]
    assert check["status"] == "warn" and check["facts"]["open"] == 1
    assert f"chmod -R go-rwx {data_dir / 'photos'}" in check["fix"]
