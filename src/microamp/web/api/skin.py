"""Skin analyses of a client, kept over time (practitioners and owners; every access audited)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from microamp.store.crud import get_client
from microamp.store.skin import record_skin_analysis, skin_analyses
from microamp.web.api.client_models import SkinAnalysisCreate, SkinAnalysisPublic
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["clients"])


@router.get(
    "/clients/{client_id}/skin-analyses",
    responses=invalid("The id in the path is not a whole number from 1 to 2147483647"),
)
def analyses(user: ApiUser, db: DbDep, client_id: RowId) -> list[SkinAnalysisPublic]:
    """The client's skin analyses, the latest first."""
    get_client(db, client_id=client_id)
    found = [SkinAnalysisPublic.of(a) for a in skin_analyses(db, client_id=client_id)]
    audit(db, user, "read", f"client:{client_id}/skin", client_id=client_id, view="api")
    return found


@router.post(
    "/clients/{client_id}/skin-analyses",
    status_code=201,
    responses=invalid(
        "`skin_type` is not normal, dry, oily, combination or sensitive, `fitzpatrick_type` "
        "not I-VI, `laxity_grade` not 0-4, or `assessed_on` is in the future"
    ),
)
def add_analysis(
    user: ApiUser, db: DbDep, client_id: RowId, body: SkinAnalysisCreate
) -> SkinAnalysisPublic:
    """A new skin analysis (the next version); the client's skin type becomes the one found."""
    today = date.today()
    row = record_skin_analysis(
        db,
        client_id=client_id,
        assessed_on=body.assessed_on or today,
        today=today,
        skin_type=body.skin_type,
        fitzpatrick_type=body.fitzpatrick_type,
        laxity_grade=body.laxity_grade,
        concerns=body.concerns,
        notes=body.notes,
        recorded_by_id=user.id,
    )
    answer = SkinAnalysisPublic.of(row)
    audit(db, user, "write", f"client:{client_id}/skin", client_id=client_id,
          version=row.version)  # fmt: skip
    return answer
