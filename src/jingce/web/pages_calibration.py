"""Calibration pages: the instrument list and one instrument's history and traceability graph;
calibration management (due, overdue, recall) and out-of-tolerance impact reports."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jingce.web.pages import PAGE_SIZE, _store, render
from jingce.web.session import require

router = APIRouter(include_in_schema=False)


# -- instruments ------------------------------------------------------------------------------


@router.get("/instruments")
def instruments_page(request: Request, q: str | None = Query(None, max_length=64),
                     page: int = Query(1, ge=1, le=100_000)) -> Response:
    actor = require(request, "instruments")
    store = _store(request)
    items = store.list_instruments(actor)
    if q:
        needle = q.lower()
        items = [i for i in items if needle in i.code.lower() or needle in i.name.lower()]
    pages = max(1, -(-len(items) // PAGE_SIZE))
    shown = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    now = dt.datetime.now(dt.UTC)
    labs = {lab.id: lab for lab in store.list_labs(actor)}
    ents = {e.id: e for e in store.list_enterprises(actor)}
    latest = store.latest_calibrations(actor, [i.id for i in shown], now)
    rows = []
    for inst in shown:
        last = latest.get(inst.id)
        holder = labs[inst.lab_id].name if inst.lab_id in labs else (
            ents[inst.enterprise_id].name if inst.enterprise_id in ents else "—")
        rows.append({"inst": inst, "last": last, "holder": holder,
                     "status": None if inst.kind == "national_standard" else
                     "missing" if last is None else "expired" if last.valid_until < now else
                     "out_of_tolerance" if last.result in ("out_of_tolerance", "fail") else "ok"})
    return render(request, "instruments.html", actor=actor, active="instruments", rows=rows, q=q or "", page=page,
                  pages=pages, total=len(items))


@router.get("/instruments/{instrument_id}")
def instrument_page(request: Request, instrument_id: int) -> Response:
    actor = require(request, "instruments")
    store = _store(request)
    inst = store.get_instrument(actor, instrument_id)
    cals = sorted(store.calibrations(actor, instrument_id), key=lambda c: c.calibrated_at, reverse=True)
    labs = {lab.id: lab for lab in store.list_labs(actor)}
    holder = labs[inst.lab_id].name if inst.lab_id in labs else None
    if holder is None and inst.enterprise_id is not None:
        holder = store.get_enterprise(actor, inst.enterprise_id).name
    return render(request, "instrument.html", actor=actor, active="instruments", inst=inst, cals=cals, labs=labs,
                  holder=holder or "—", now=dt.datetime.now(dt.UTC), js_text=("inst.",))


