"""The manual steps of a visit: the service's steps, copied when the visit's checklist is first
opened, each with its timer, the products used, and who finished or skipped it.

The functions are `microamp.store.visit_steps`. The microcurrent step keeps a row (for its place
and its products) but its state and times are the session record's, never its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, UTCDateTime, utc_now

__all__ = ["STEP_STATES", "VisitStep"]

STEP_STATES = ("pending", "running", "paused", "done", "skipped")


class VisitStep(Base):
    """One step of a visit, at ``position`` (0 first) in the service's order. ``planned_min``
    is what the service plans; the time taken is ``elapsed_s`` plus, while ``running``, the
    time since ``running_since``. ``started_at`` is the first start, ``ended_at`` when it was
    done or skipped (UTC); ``done_by_id`` / ``done_by`` the operator who did it."""

    __tablename__ = "visit_steps"
    __table_args__ = (
        UniqueConstraint("appointment_id", "position"),
        CheckConstraint("status IN ('pending', 'running', 'paused', 'done', 'skipped')", "status"),
        CheckConstraint("planned_min BETWEEN 0 AND 240", "planned_min"),
        CheckConstraint("elapsed_s >= 0", "elapsed_s"),
        CheckConstraint("(status = 'running') = (running_since IS NOT NULL)", "running_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    planned_min: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_s: Mapped[float] = mapped_column(Float, default=0.0)
    products: Mapped[str] = mapped_column(Text, default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_by: Mapped[str] = mapped_column(String(200), default="")
    skin_analysis_id: Mapped[int | None] = mapped_column(ForeignKey("skin_analyses.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
