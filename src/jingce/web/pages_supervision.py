"""Lab pages: the public lab directory and one lab's scope; the regulator's supervision
(qualification, proficiency testing, audit findings)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jingce.web.pages import _store, render
from jingce.web.session import require

router = APIRouter(include_in_schema=False)


# -- labs -------------------------------------------------------------------------------------


@router.get("/labs")
def labs_page(request: Request) -> Response:
    actor = require(request, "labs")
    labs = sorted(_store(request).list_labs(actor), key=lambda lab: (lab.level != "national", lab.code))
    return render(request, "labs.html", actor=actor, active="labs", labs=labs)


@router.get("/labs/{lab_id}")
def lab_page(request: Request, lab_id: int) -> Response:
    actor = require(request, "labs")
    store = _store(request)
    lab = store.get_lab(actor, lab_id)
    held = [i for i in store.list_instruments(actor) if i.lab_id == lab.id]
    return render(request, "lab.html", actor=actor, active="labs", lab=lab, held=held)


