"""Instruments, calibrations, the calibration chain, labs and their scopes, alarms."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import MAX_ID, Id, OptionalId, RequestModel, UnitStr, require_role
from jingce.errors import FormatError
from jingce.model import Calibration, CalibrationResult, Instrument, InstrumentKind, Lab, Role, ScopeEntry
from jingce.services import views, views_registry
from jingce.store import Actor, Store

router = APIRouter(tags=["metrology"])
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
BIG = 1e12


class InstrumentIn(RequestModel):
    """An instrument or standard of the acting tenant (the admin may name ``tenant_id``)."""

    tenant_id: int | None = Field(None, ge=1, le=MAX_ID)
    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=256)
    kind: InstrumentKind = InstrumentKind.WORKING
    quantity: str = Field("length", min_length=1, max_length=64)
    unit: UnitStr = "mm"
    range_min: float | None = Field(None, ge=-BIG, le=BIG)
    range_max: float | None = Field(None, ge=-BIG, le=BIG)
    resolution: float | None = Field(None, gt=0, le=BIG)
    mpe: float | None = Field(None, gt=0, le=BIG)
    uncertainty: float | None = Field(None, gt=0, le=BIG)
    lab_id: int | None = Field(None, ge=1, le=MAX_ID)
    enterprise_id: int | None = Field(None, ge=1, le=MAX_ID)
    calibration_interval_days: int | None = Field(None, ge=1, le=36_500)


class CalibrationIn(RequestModel):
    instrument_id: int = Field(ge=1, le=MAX_ID)
    lab_id: int = Field(ge=1, le=MAX_ID)
    certificate_no: str = Field(min_length=1, max_length=128)
    calibrated_at: dt.datetime
    valid_until: dt.datetime
    result: CalibrationResult = CalibrationResult.PASS
    error_as_found: float | None = Field(None, ge=-BIG, le=BIG)
    error_as_left: float | None = Field(None, ge=-BIG, le=BIG)
    expanded_uncertainty: float = Field(gt=0, le=BIG)
    coverage_factor: float = Field(2.0, gt=0, le=100)
    coverage_probability: float | None = Field(0.95, gt=0, lt=1)
    unit: UnitStr = "mm"
    standard_ids: list[int] = Field(default_factory=list, max_length=100)


class ScopeEntryIn(RequestModel):
    quantity: str = Field(min_length=1, max_length=64)
    range_min: float = Field(ge=-BIG, le=BIG)
    range_max: float = Field(ge=-BIG, le=BIG)
    unit: UnitStr = "mm"
    cmc_absolute: float = Field(ge=0, le=BIG)
    cmc_relative: float = Field(0.0, ge=0, le=1)
    method: str | None = Field(None, max_length=256)


@router.get("/instruments", response_model=list[Instrument])
def instruments(enterprise_id: OptionalId = None, actor: Actor = Depends(get_actor),
                store: Store = Depends(get_store)):
    return store.list_instruments(actor, enterprise_id=enterprise_id)


@router.post("/instruments", response_model=Instrument, status_code=201)
def add_instrument(body: InstrumentIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Register an instrument (enterprise admins and labs for their own tenant; standards only by labs)."""
    require_role(actor, Role.ENTERPRISE_ADMIN, Role.LAB)
    return views_registry.register_instrument(store, actor, body.model_dump())


@router.get("/instruments/{instrument_id}", response_model=Instrument)
def instrument(instrument_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_instrument(actor, instrument_id)


@router.get("/instruments/{instrument_id}/calibrations", response_model=list[Calibration])
def calibrations(instrument_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.calibrations(actor, instrument_id)


@router.post("/calibrations", response_model=Calibration, status_code=201)
def add_calibration(body: CalibrationIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Record a calibration certificate issued by a lab (acting as that lab, or admin)."""
    require_role(actor, Role.LAB)
    fields = body.model_dump()
    return store.add_calibration(actor, Calibration(**fields | {"standard_ids": tuple(fields["standard_ids"])}))


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
def chain(instrument_id: Id, at: dt.datetime | None = None, actor: Actor = Depends(get_actor),
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
def lab(lab_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_lab(actor, lab_id)


@router.post("/labs/{lab_id}/scope", response_model=Lab, status_code=201)
def add_scope_entry(lab_id: Id, body: ScopeEntryIn, actor: Actor = Depends(get_actor),
                    store: Store = Depends(get_store)):
    """Publish a line of a lab's accredited scope (the regulator or the admin; the lab itself only while
    its application is under review)."""
    require_role(actor, Role.LAB, Role.REGULATOR)
    return store.add_scope_entry(actor, lab_id, ScopeEntry(**body.model_dump()))


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
def alarms(enterprise_id: OptionalId = None, characteristic_id: OptionalId = None, open_only: bool = False,
           limit: int = Query(200, ge=1, le=10_000), actor: Actor = Depends(get_actor),
           store: Store = Depends(get_store)):
    return [AlarmPublic(**dataclasses.asdict(a)) for a in store.alarms(
        actor, enterprise_id=enterprise_id, characteristic_id=characteristic_id, open_only=open_only, limit=limit)]


@router.post("/alarms/{alarm_id}/acknowledge", status_code=204)
def acknowledge(alarm_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)) -> None:
    store.acknowledge_alarm(actor, alarm_id)
