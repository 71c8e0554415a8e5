"""Concurrent reads on SQLite: every API read writes its audit row in the same request, so
fifty clients reading at once are fifty writers. All of them succeed (the busy timeout queues
the writers rather than failing them), and the audit chain holds exactly one row per read."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from microamp.store.access import AuditEntry, verify_audit_chain
from web.conftest import clinic_on

CLIENTS = 50
READS_EACH = 8


def test_fifty_clients_reading_at_once_all_succeed_with_their_audit_rows(
    tmp_path: Path,
) -> None:
    with clinic_on(f"sqlite:///{tmp_path / 'busy.db'}", tmp_path) as clinic:
        path = f"/api/v1/clients/{clinic.clients['cleared']}/screening"
        with clinic.store.session() as db:
            before = db.scalar(select(func.count()).select_from(AuditEntry)) or 0

        def reader(_n: int) -> list[int]:
            with clinic.api("practitioner") as api:
                return [api.get(path).status_code for _ in range(READS_EACH)]

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for batch in pool.map(reader, range(CLIENTS)) for s in batch]
        assert statuses == [200] * CLIENTS * READS_EACH
        with clinic.store.session() as db:
            rows = db.scalar(select(func.count()).select_from(AuditEntry)) or 0
            assert rows - before == CLIENTS * READS_EACH
            assert verify_audit_chain(db).intact
