"""Digital calibration certificates (PTB DCC 3.1.2) over HTTP: import a certificate into
calibration records, export a recorded calibration as a certificate."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import Id, require_role
from jingce.errors import FormatError
from jingce.model import Role
from jingce.services.certificates import export_dcc, import_dcc
from jingce.store import Actor, Store

router = APIRouter(tags=["metrology"])
MAX_CERTIFICATE_BYTES = 8 * 1024 * 1024
"""Largest certificate accepted (8 MiB)."""

_XML_BODY = {"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}}


class CertificateImportOut(BaseModel):
    certificate_no: str
    lab_code: str
    created: bool
    calibration_ids: list[int]
    message: str


@router.post("/certificates", response_model=CertificateImportOut, openapi_extra=_XML_BODY)
async def post_certificate(request: Request, validity_days: int | None = Query(None, ge=1, le=36_500),
                           actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Import a DCC (XML body, validated against the shipped DCC 3.1.2 and D-SI 2.1.0 schemas):
    its calibrations are recorded for the instruments it names, with the standards it used as
    traceability links. The same certificate twice lands once. Labs (the issuing lab) and the admin."""
    require_role(actor, Role.LAB)
    data = await request.body()
    if not data:
        raise FormatError("the body must be a DCC XML document", field="body")
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise FormatError(f"a certificate may be at most {MAX_CERTIFICATE_BYTES} bytes", field="body")
    res = import_dcc(store, actor, data, "request body", validity_days=validity_days)
    return CertificateImportOut(certificate_no=res.certificate_no, lab_code=res.lab.code, created=res.created,
                                calibration_ids=[c.id for c in res.calibrations], message=res.message())


@router.get("/calibrations/{calibration_id}/dcc", response_class=Response,
            responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}})
def get_calibration_dcc(calibration_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A recorded calibration as a DCC 3.1.2 document (validated before it is sent)."""
    return Response(export_dcc(store, actor, calibration_id), media_type="application/xml")
