"""A measured photo's 478 landmarks in a column of their own, out of its measures.

The outcome page and the API read every measured photo of a client; the landmarks are 20 times
the size of the measures and only the comparison view and capture need them (for one or two
photos at a time). Read with the measures, 200 photos cost 200 ms of JSON decoding a page.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Types are spelled out here rather than imported from the models, so this revision stays as it
was written.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ENTRIES = sa.table(
    "progress_entries",
    sa.column("id", sa.Integer()),
    sa.column("measurement", JSON_VALUE),
    sa.column("landmarks_px", JSON_VALUE),
)


def _move(*, out_of_measurement: bool) -> None:
    """Carry each row's landmarks out of its measurement document (its ``landmarks_px`` key)
    into the column, or back."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_ENTRIES.c.id, _ENTRIES.c.measurement, _ENTRIES.c.landmarks_px)
    ).all()
    for entry_id, measurement, landmarks in rows:
        values: dict[str, Any]
        if out_of_measurement:
            if not measurement or "landmarks_px" not in measurement:
                continue
            kept = {k: v for k, v in measurement.items() if k != "landmarks_px"}
            values = {"measurement": kept, "landmarks_px": measurement["landmarks_px"]}
        else:
            if landmarks is None or measurement is None:
                continue
            values = {"measurement": measurement | {"landmarks_px": landmarks}}
        connection.execute(sa.update(_ENTRIES).where(_ENTRIES.c.id == entry_id).values(**values))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("progress_entries") as table:
        table.add_column(sa.Column("landmarks_px", JSON_VALUE, nullable=True))
    _move(out_of_measurement=True)


def downgrade() -> None:
    """Downgrade schema."""
    _move(out_of_measurement=False)
    with op.batch_alter_table("progress_entries") as table:
        table.drop_column("landmarks_px")
