"""Instruments, calibrations, the calibration chain, labs, alarms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from jingce.api.deps import get_actor, get_store
from jingce.errors import FormatError
from jingce.model import Calibration, Instrument, Lab
from jingce.services import views
from jingce.store import Actor, Store

router = APIRouter(tags=["metrology"])


@router.get("/instruments", response_model=list[Instrument])
def instruments(enterprise_id: int | None = None, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.list_instruments(actor, enterprise_id=enterprise_id)


@router.get("/instruments/{instrument_id}", response_model=Instrument)
def instrument(instrument_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_instrument(actor, instrument_id)


@router.get("/instruments/{instrument_id}/calibrations", response_model=list[Calibration])
def calibrations(instrument_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.calibrations(actor, instrument_id)


@router.post("/calibrations", response_model=Calibration, status_code=201)
def add_calibration(body: Calibration, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.add_calibration(actor, body)


class ChainNodePublic(BaseModel):
    instrument_id: int
    code: str
    name: str
    kind: str
    lab: str | None


class ChainLinkPublic(BaseModel):
    instrument_id: int
    standard_id: int | None
    certificate_no: str | None
    calibrated_at: dt.datetime | None
    valid_until: dt.datetime | None
    expanded_uncertainty: float | None
    coverage_factor: float | None
    unit: str | None
    status: str


class GraphNodePublic(BaseModel):
    id: int
    label: str
    kind: str
    level: int = Field(description="0 working instrument, 1 reference standard, 2 provincial, 3 national standard")
    status: Literal["ok", "expired", "out_of_tolerance", "missing"]
    code: str
    lab: str | None


class GraphEdgePublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = Field(alias="from")
    to: int
    certificate: str | None
    valid_until: dt.datetime | None
    status: str = Field(description="ok, expired, out_of_tolerance, missing or cycle")


class ChainGraphPublic(BaseModel):
    nodes: list[GraphNodePublic]
    edges: list[GraphEdgePublic]


class ChainPublic(BaseModel):
    root_id: int
    at: dt.datetime
    unbroken: bool
    nodes: list[ChainNodePublic]
    links: list[ChainLinkPublic]
    graph: ChainGraphPublic


@router.get("/instruments/{instrument_id}/chain", response_model=ChainPublic, response_model_by_alias=True)
def chain(instrument_id: int, at: dt.datetime | None = None, actor: Actor = Depends(get_actor),
          store: Store = Depends(get_store)):
    """The calibration chain behind an instrument at a time, up to the national standards."""
    if at is not None and at.tzinfo is None:
        raise FormatError("must carry a UTC offset", field="at")
    ch = store.calibration_chain(actor, instrument_id, at)
    return ChainPublic(root_id=ch.root_id, at=ch.at, unbroken=ch.unbroken,
                       nodes=[ChainNodePublic(**{k: getattr(n, k) for k in ChainNodePublic.model_fields})
                              for n in ch.nodes],
                       links=[ChainLinkPublic(**{k: getattr(x, k) for k in ChainLinkPublic.model_fields})
                              for x in ch.links],
                       graph=ChainGraphPublic.model_validate(views.chain_graph(ch)))


@router.get("/labs", response_model=list[Lab])
def labs(actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The public directory of labs and their scopes."""
    return store.list_labs(actor)


@router.get("/labs/{lab_id}", response_model=Lab)
def lab(lab_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_lab(actor, lab_id)


class AlarmPublic(BaseModel):
    id: int
    enterprise_id: int
    characteristic_id: int
    measured_at: dt.datetime
    value: float
    kind: str
    rule: str | None
    detail: str | None
    serial: str | None
    raised_at: dt.datetime
    acknowledged_by: str | None


@router.get("/alarms", response_model=list[AlarmPublic])
def alarms(enterprise_id: int | None = None, characteristic_id: int | None = None, open_only: bool = False,
           limit: int = Query(200, ge=1, le=10_000), actor: Actor = Depends(get_actor),
           store: Store = Depends(get_store)):
    return [AlarmPublic(**dataclasses.asdict(a)) for a in store.alarms(
        actor, enterprise_id=enterprise_id, characteristic_id=characteristic_id, open_only=open_only, limit=limit)]


@router.post("/alarms/{alarm_id}/acknowledge", status_code=204)
def acknowledge(alarm_id: int, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)) -> None:
    store.acknowledge_alarm(actor, alarm_id)
