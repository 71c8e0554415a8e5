"""Request and response bodies for keeping client records: edits, merges, skin analyses."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from microamp.store.client_models import LAXITY_GRADES, SkinAnalysis
from microamp.store.models import Client
from microamp.web.api.models import ClientPublic
from microamp.web.deps import MAX_ROW_ID

__all__ = [
    "ClientRecordPublic",
    "ClientUpdate",
    "DuplicatesPublic",
    "ErasedPublic",
    "ErasurePlanPublic",
    "ErasureRequest",
    "MergePublic",
    "MergeRequest",
    "SkinAnalysisCreate",
    "SkinAnalysisPublic",
]


class ClientUpdate(BaseModel):
    """The fields to change; those left out keep their value. The health fields (skin type,
    concerns, allergies, medications, notes) are for practitioners and owners only."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(None, min_length=1, max_length=200)
    date_of_birth: date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    preferred_weekdays: list[str] | None = None
    fitzpatrick_type: str | None = Field(None, max_length=3)
    concerns: list[str] | None = None
    allergies: str | None = Field(None, max_length=4000)
    medications: str | None = Field(None, max_length=4000)
    notes: str | None = Field(None, max_length=4000)


class ClientRecordPublic(ClientPublic):
    """Contact details, whether archived or merged, and (for clinical roles) health fields."""

    archived: bool
    merged_into_id: int | None
    changed: list[str] = Field(default_factory=list)
    fitzpatrick_type: int | None = None
    concerns: list[str] | None = None
    allergies: str | None = None
    medications: str | None = None
    notes: str | None = None

    @classmethod
    def record(
        cls, client: Client, *, clinical: bool, changed: list[str] | None = None
    ) -> ClientRecordPublic:
        health = (
            {
                "fitzpatrick_type": client.fitzpatrick_type,
                "concerns": list(client.concerns),
                "allergies": client.allergies,
                "medications": client.medications,
                "notes": client.notes,
            }
            if clinical
            else {}
        )
        return cls(
            **ClientPublic.of(client).model_dump(),
            archived=client.archived_at is not None,
            merged_into_id=client.merged_into_id,
            changed=changed or [],
            **health,
        )


class DuplicatesPublic(BaseModel):
    """A new client who may be on file already: send again with ``allow_duplicate`` to add."""

    detail: str
    possible_duplicates: list[ClientPublic]


class MergeRequest(BaseModel):
    """Merge ``duplicate_id`` into the client of the path. Irreversible: ``confirm`` must be
    true."""

    model_config = ConfigDict(extra="forbid")

    duplicate_id: int = Field(ge=1, le=MAX_ROW_ID)
    confirm: bool = False


class MergePublic(BaseModel):
    kept_id: int
    duplicate_id: int
    moved: dict[str, int]


class SkinAnalysisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assessed_on: date | None = None
    skin_type: str = Field(max_length=20)
    fitzpatrick_type: str = Field(max_length=3)
    laxity_grade: int = Field(ge=0, le=len(LAXITY_GRADES) - 1)
    concerns: list[str] = Field(default_factory=list)
    notes: str = Field("", max_length=4000)


class SkinAnalysisPublic(BaseModel):
    id: int
    version: int
    assessed_on: date
    skin_type: str
    fitzpatrick_type: int
    laxity_grade: int
    laxity: str
    concerns: list[str]
    notes: str
    recorded_at: datetime
    recorded_by_id: int | None

    @classmethod
    def of(cls, row: SkinAnalysis) -> SkinAnalysisPublic:
        return cls(
            id=row.id,
            version=row.version,
            assessed_on=row.assessed_on,
            skin_type=row.skin_type,
            fitzpatrick_type=row.fitzpatrick_type,
            laxity_grade=row.laxity_grade,
            laxity=LAXITY_GRADES[row.laxity_grade],
            concerns=list(row.concerns),
            notes=row.notes,
            recorded_at=row.recorded_at,
            recorded_by_id=row.recorded_by_id,
        )


class ErasurePlanPublic(BaseModel):
    """What erasing the client removes, by count, and whether a retention hold refuses it:
    ``held_until`` is the first day she may be erased and ``rule`` says why, in words."""

    client_id: int
    full_name: str
    intake_forms: int = Field(description="Intake forms, each with its screening: deleted.")
    records: int = Field(description="Treatment records: kept as dose figures without her.")
    photos: int = Field(description="Progress photos: deleted, their files removed.")
    consents: int = Field(description="Consents, signed pre-visit forms included: deleted.")
    visits: int = Field(description="Appointments: deleted.")
    last_treatment: date | None
    retention_years: int = Field(description="The clinic's setting: 0 is no hold.")
    held_until: date | None
    held: bool
    rule: str


class ErasureRequest(BaseModel):
    """Erase the client of the path. Irreversible: ``confirm`` must be true."""

    model_config = ConfigDict(extra="forbid")

    confirm: bool = False


class ErasedPublic(BaseModel):
    """An erasure carried out: what went, by count, and the photo files removed from disk."""

    erased: bool
    client_id: int
    intake_forms: int
    records: int
    photos: int
    consents: int
    visits: int
    files: int
