"""The web workers' signing key, agreed through the database: one key for every worker wherever
it runs, a worker with another key refused naming MICROAMP_SECRET_KEY, a key file of an older
microamp adopted, and `microamp db forget-secret-key` to change it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from microamp.cli.main import app as cli_app
from microamp.errors import InvalidValue
from microamp.store import Store, StoreSettings, open_store
from microamp.store.signing_key import FINGERPRINT_ROW, KEY_ROW, StoredKey, key_fingerprint
from microamp.web import WebSettings
from microamp.web.settings import shared_secret_key

KEY_A, KEY_B = "a" * 40, "b" * 40


def worker(store: Store, host: Path, key: str | None = None) -> str:
    """What a web worker on ``host`` (its own data directory) signs with."""
    return shared_secret_key(WebSettings(data_dir=host, secret_key=key), store)


def stored(store: Store) -> dict[str, str]:
    with store.session() as db:
        return {row.name: row.value for row in db.scalars(select(StoredKey))}


def test_workers_without_a_key_on_different_hosts_share_the_one_the_database_keeps(
    store: Store, tmp_path: Path
) -> None:
    first = worker(store, tmp_path / "host1")
    assert worker(store, tmp_path / "host2") == first
    assert len(first) >= 32
    assert stored(store) == {KEY_ROW: first, FINGERPRINT_ROW: key_fingerprint(first)}
    assert not (tmp_path / "host1").exists()  # nothing written to any host's disk


def test_workers_with_the_same_key_start_and_the_database_holds_only_its_fingerprint(
    store: Store, tmp_path: Path
) -> None:
    assert worker(store, tmp_path, KEY_A) == KEY_A
    assert worker(store, tmp_path / "other", KEY_A) == KEY_A
    assert stored(store) == {FINGERPRINT_ROW: key_fingerprint(KEY_A)}
    assert KEY_A not in json.dumps(stored(store))


def test_a_worker_with_another_key_is_refused_naming_the_setting(
    store: Store, tmp_path: Path
) -> None:
    worker(store, tmp_path, KEY_A)
    with pytest.raises(InvalidValue) as caught:
        worker(store, tmp_path, KEY_B)
    assert caught.value.field == "MICROAMP_SECRET_KEY"
    assert "give every worker the same one" in caught.value.rule
    assert key_fingerprint(KEY_A)[:12] in caught.value.rule
    assert KEY_A not in str(caught.value) and KEY_B not in str(caught.value)
    with pytest.raises(InvalidValue, match="MICROAMP_SECRET_KEY"):
        worker(store, tmp_path / "unset")  # no key here, while the others have one
    assert stored(store) == {FINGERPRINT_ROW: key_fingerprint(KEY_A)}  # the refusal kept nothing


def test_a_key_set_beside_workers_that_use_the_kept_one_is_refused(
    store: Store, tmp_path: Path
) -> None:
    worker(store, tmp_path)
    with pytest.raises(InvalidValue, match="the key it keeps") as caught:
        worker(store, tmp_path, KEY_A)
    assert caught.value.field == "MICROAMP_SECRET_KEY"


def test_the_key_file_of_an_older_microamp_becomes_the_kept_key(
    store: Store, tmp_path: Path
) -> None:
    old = tmp_path / "old-host"
    old.mkdir()
    (old / "web-secret.key").write_text("c" * 64 + "\n", encoding="utf-8")
    assert worker(store, old) == "c" * 64  # cookies signed before the upgrade stay good
    assert worker(store, tmp_path / "new-host") == "c" * 64
    newer = tmp_path / "newer-host"
    newer.mkdir()
    (newer / "web-secret.key").write_text("d" * 64 + "\n", encoding="utf-8")
    assert worker(store, newer) == "c" * 64  # the database's key wins over a later file


def test_forgetting_the_key_lets_the_next_worker_set_another(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    worker(store, tmp_path, KEY_A)
    runner = CliRunner()
    done = runner.invoke(cli_app, ["db", "forget-secret-key", "--database", database_url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["forgotten"] is True
    assert worker(store, tmp_path, KEY_B) == KEY_B
    with pytest.raises(InvalidValue):
        worker(store, tmp_path, KEY_A)


keys = st.sampled_from([None, KEY_A, KEY_B])


@settings(max_examples=40, deadline=None)
@given(started=st.lists(keys, min_size=1, max_size=6))
def test_every_worker_that_starts_signs_with_one_key(started: list[str | None]) -> None:
    """Whatever keys workers start with, in whatever order: those that start all sign with the
    same key, and a worker is refused exactly when its key is not that one."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        with open_store(
            f"sqlite:///{base / 'k.db'}", settings=StoreSettings(data_dir=base), upgrade=True
        ) as store:
            signed: list[str] = []
            first = started[0]
            for n, key in enumerate(started):
                try:
                    signed.append(worker(store, base / f"host{n}", key))
                except InvalidValue:
                    assert key != first  # "no key" too is refused beside configured ones
                    continue
                assert key == first
            assert len(set(signed)) == 1
