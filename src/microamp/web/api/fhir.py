"""The client's record as HL7 FHIR R4B (4.3.0): ``$everything`` of a Patient as one Bundle, and
each resource read by type and id. Health data: practitioners and owners only, every read
audited as the client page's is."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from microamp.store.fhir import FHIR_VERSION, ResourceType, client_bundle, read_resource
from microamp.web.api.responses import invalid
from microamp.web.deps import ApiUser, DbDep, RowId, audit

router = APIRouter(tags=["fhir"])

FHIR_JSON = "application/fhir+json"


class FhirResponse(JSONResponse):
    """JSON under FHIR's own media type."""

    media_type = FHIR_JSON


_RESOURCE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": f"The resource, FHIR {FHIR_VERSION} JSON",
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
    }
}


@router.get(
    "/fhir/Patient/{client_id}/$everything",
    responses=_RESOURCE
    | invalid("`client_id` is not a whole number from 1 to 2147483647, or `_include` is not audit"),
)
def everything(
    user: ApiUser,
    db: DbDep,
    client_id: RowId,
    include: Annotated[
        Literal["audit"] | None,
        Query(
            alias="_include",
            description="`audit`: add an AuditEvent for every audit row naming the client.",
        ),
    ] = None,
) -> FhirResponse:
    """Everything held on the client as one Bundle: Patient, intake answers, consents with
    the signed document, visits, sessions with their device and body sites, the dose by zone,
    photos and their measures."""
    bundle = client_bundle(db, client_id=client_id, include_audit=include == "audit")
    audit(db, user, "read", f"client:{client_id}", client_id=client_id,
          view="fhir $everything", entries=bundle["total"])  # fmt: skip
    return FhirResponse(bundle)


@router.get(
    "/fhir/{resource_type}/{resource_id}",
    responses=_RESOURCE
    | invalid("`resource_type` is not a type the export has, or `resource_id` is not a FHIR id"),
)
def read(
    user: ApiUser,
    db: DbDep,
    resource_type: ResourceType,
    resource_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9\-.]{1,64}$")],
) -> FhirResponse:
    """One resource of a client's record, as it is in her Bundle."""
    client_id, resource = read_resource(db, resource_type=resource_type, resource_id=resource_id)
    audit(db, user, "read", f"fhir:{resource_type}/{resource_id}", client_id=client_id,
          view="fhir read")  # fmt: skip
    return FhirResponse(resource)
