"""The export files as downloads, for the pages and the API alike: a person's full export as
ZIP and the clinic's tables as CSV, each audited as the read it is.

The file is written first into a spooled temporary file (in memory while small, on disk past
`SPOOL_BYTES`) while the request's transaction is open, then sent in chunks: the response
never holds a client's photos all at once, and the audit row is committed before a byte goes.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import date
from typing import IO

from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from microamp.store.csv_exports import day_range, write_csv
from microamp.store.models import User
from microamp.store.subject_export import write_person_archive
from microamp.web.deps import audit

__all__ = ["SPOOL_BYTES", "archive_download", "csv_download"]

SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK_BYTES = 256 * 1024


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def _attachment(spool: IO[bytes], media_type: str, filename: str) -> StreamingResponse:
    size_bytes = spool.tell()
    return StreamingResponse(
        _chunks(spool),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size_bytes),
            "Cache-Control": "no-store",
        },
    )


def archive_download(db: Session, user: User, client_id: int, *, via: str) -> StreamingResponse:
    """The client's full export as a ZIP download, audited as a read of her whole record
    (``via``: the page or the API). `NotFound` for no such client."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # closed by _chunks
    try:
        contents = write_person_archive(db, client_id=client_id, out=spool)
        audit(db, user, "read", f"client:{client_id}", client_id=client_id,
              view=f"full export ({via})", files=len(contents.files))  # fmt: skip
    except BaseException:
        spool.close()
        raise
    return _attachment(spool, "application/zip", f"client-{client_id}-export.zip")


def csv_download(
    db: Session, user: User, table: str, first: date | None, last: date | None, *, via: str
) -> StreamingResponse:
    """``table`` as a CSV download, audited. `InvalidValue` naming ``to`` for a range that
    ends before it starts, ``table`` for a table there is not."""
    days = day_range(first, last)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # closed by _chunks
    try:
        text = io.TextIOWrapper(spool, "utf-8", newline="")
        rows = write_csv(db, table=table, out=text, days=days)
        text.flush()
        text.detach()  # the spool stays open to be sent
        audit(db, user, "read", f"export:{table}", view=f"csv export ({via})", rows=rows,
              first=first and first.isoformat(), last=last and last.isoformat())  # fmt: skip
    except BaseException:
        spool.close()
        raise
    span = "".join(f"-{d.isoformat()}" if d else "" for d in (first, last))
    return _attachment(spool, "text/csv; charset=utf-8", f"{table}{span}.csv")
