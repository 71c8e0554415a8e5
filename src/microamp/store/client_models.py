"""Tables that keep a client record maintained: skin analyses kept over time, and the
treatment-note templates the owner keeps for practitioners to start a note from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microamp.store.base import Base, JSONValue, UTCDateTime, utc_now

__all__ = ["LAXITY_GRADES", "SKIN_TYPES", "NoteTemplate", "SkinAnalysis"]

SKIN_TYPES = ("normal", "dry", "oily", "combination", "sensitive")
# a 0-4 laxity scale as clinics grade it by eye: none, mild, moderate, marked, severe
LAXITY_GRADES = ("none", "mild", "moderate", "marked", "severe")


class SkinAnalysis(Base):
    """One skin analysis of a client, never changed: a new one is the next ``version``.

    ``fitzpatrick_type`` 1-6 (I-VI), ``laxity_grade`` 0-4 (`LAXITY_GRADES`), ``concerns`` words.
    """

    __tablename__ = "skin_analyses"
    __table_args__ = (
        UniqueConstraint("client_id", "version"),
        CheckConstraint("fitzpatrick_type BETWEEN 1 AND 6", "fitzpatrick_type"),
        CheckConstraint("laxity_grade BETWEEN 0 AND 4", "laxity_grade"),
        CheckConstraint(
            "skin_type IN ('normal', 'dry', 'oily', 'combination', 'sensitive')", "skin_type"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    assessed_on: Mapped[date] = mapped_column(Date)
    skin_type: Mapped[str] = mapped_column(String(20))
    fitzpatrick_type: Mapped[int] = mapped_column(Integer)
    concerns: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    laxity_grade: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class NoteTemplate(Base):
    """A treatment-note template: a name and the text a note starts from."""

    __tablename__ = "note_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
