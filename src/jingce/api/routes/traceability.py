"""Traceability of measurements, out-of-tolerance impact, calibration management."""

from __future__ import annotations

import datetime as dt
import math

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import MAX_ID, Id, OptionalId, require_role
from jingce.errors import FormatError
from jingce.model import Role
from jingce.services import calibration as calmgmt
from jingce.services.impact import impact_report
from jingce.services.traceability import ChainTrace, instrument_trace, measurement_trace
from jingce.services.views import chain_graph
from jingce.store import Actor, Store

router = APIRouter(tags=["metrology"])


EARLIEST, LATEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
"""Times asked about must lie in this span (horizons and windows are added to them)."""


def _aware(at: dt.datetime | None, field: str = "at") -> dt.datetime | None:
    if at is not None and at.tzinfo is None:
        raise FormatError("must carry a UTC offset", field=field)
    if at is not None and not EARLIEST <= at < LATEST:
        raise FormatError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}", field=field)
    return at


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class TraceNodePublic(BaseModel):
    instrument_id: int
    code: str
    name: str
    kind: str
    lab: str | None
    u_cumulative: float | None


class TraceLinkPublic(BaseModel):
    instrument_id: int
    standard_id: int | None
    certificate_no: str | None
    status: str
    expanded_uncertainty: float | None
    coverage_factor: float | None
    unit: str | None
    u: float | None
    reason: str | None
    reason_zh: str | None


class ChainTracePublic(BaseModel):
    """The chain at a time, with the standard uncertainty ``u = U/k`` of each link (in ``unit``)
    and the root-sum-square accumulated from the national standard down (JCGM 100 5.1.2,
    uncorrelated links; the largest path where there are several)."""

    instrument_id: int
    at: dt.datetime
    unit: str
    unbroken: bool
    u_chain: float | None
    nodes: list[TraceNodePublic]
    links: list[TraceLinkPublic]
    breaks: list[TraceLinkPublic]
    graph: dict


class MeasurementPublic(BaseModel):
    enterprise_id: int
    product_id: int
    part_number: str
    characteristic_id: int
    characteristic: str
    serial: str | None
    measured_at: dt.datetime
    value: float
    unit: str
    nominal: float | None
    lower_limit: float | None
    upper_limit: float | None
    instrument_id: int | None
    batch: str
    position: int


class MeasurementTracePublic(BaseModel):
    measurement: MeasurementPublic
    unbroken: bool
    trace: ChainTracePublic | None


def _trace_public(tr: ChainTrace) -> ChainTracePublic:
    links = [TraceLinkPublic(instrument_id=x.instrument_id, standard_id=x.standard_id, certificate_no=x.certificate_no,
                             status=x.status, expanded_uncertainty=x.expanded_uncertainty,
                             coverage_factor=x.coverage_factor, unit=x.unit, u=_num(x.u), reason=x.reason_en,
                             reason_zh=x.reason_zh) for x in tr.links]
    return ChainTracePublic(
        instrument_id=tr.chain.root_id, at=tr.chain.at, unit=tr.unit, unbroken=tr.unbroken, u_chain=_num(tr.u_chain),
        nodes=[TraceNodePublic(instrument_id=n.instrument_id, code=n.code, name=n.name, kind=n.kind, lab=n.lab,
                               u_cumulative=_num(tr.u_cumulative.get(n.instrument_id))) for n in tr.chain.nodes],
        links=links, breaks=[x for x in links if x.status != "ok"], graph=chain_graph(tr.chain))


@router.get("/instruments/{instrument_id}/trace", response_model=ChainTracePublic)
def instrument_chain_trace(instrument_id: Id, at: dt.datetime | None = None, actor: Actor = Depends(get_actor),
                           store: Store = Depends(get_store)):
    """The calibration chain behind an instrument at a time (default now), which link breaks it
    and why, and the uncertainty contributed along it."""
    return _trace_public(instrument_trace(store, actor, instrument_id, _aware(at)))


@router.get("/trace/measurement", response_model=MeasurementTracePublic)
def trace_measurement(characteristic_id: OptionalId = None, serial: str | None = Query(None, max_length=128),
                      at: dt.datetime | None = None, batch: str | None = Query(None, max_length=64),
                      position: int | None = Query(None, ge=0, le=2**62), actor: Actor = Depends(get_actor),
                      store: Store = Depends(get_store)):
    """Traceability of one measured value (by characteristic, serial and time, or by ingest batch
    and position): its instrument and the chain at the time of measurement."""
    mt = measurement_trace(store, actor, characteristic_id=characteristic_id, serial=serial, at=_aware(at),
                           batch=batch, position=position)
    return MeasurementTracePublic(measurement=MeasurementPublic(**mt.measurement), unbroken=mt.unbroken,
                                  trace=None if mt.trace is None else _trace_public(mt.trace))


# -- out-of-tolerance impact ------------------------------------------------------------------


class ImpactReportPublic(BaseModel):
    """An impact report as the actor may read it (an enterprise: its own enterprises only)."""

    id: int
    calibration_id: int
    created_at: dt.datetime
    actor: str
    summary: dict


class ImpactRowPublic(BaseModel):
    enterprise_id: int
    product_id: int
    characteristic_id: int
    serial: str | None
    measured_at: dt.datetime
    value: float
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    instrument_id: int
    depth: int
    bias_limit: float | None
    u_combined: float | None
    accepted: bool
    pfa: float | None
    doubtful: bool


@router.post("/calibrations/{calibration_id}/impact", response_model=ImpactReportPublic, status_code=201)
def run_impact(calibration_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Assess the impact of a calibration that found the instrument out of tolerance: the lab that
    issued it, the regulator or the admin. Stores the report and notifies every tenant concerned."""
    require_role(actor, Role.LAB, Role.REGULATOR)
    rep = impact_report(store, actor, None, calibration_id)
    return ImpactReportPublic(**dict(zip(("id", "calibration_id", "created_at", "actor", "summary"),
                                         store.get_impact_report(actor, rep.id), strict=True)))


@router.get("/impact-reports", response_model=list[ImpactReportPublic])
def impact_reports(calibration_id: OptionalId = None, actor: Actor = Depends(get_actor),
                   store: Store = Depends(get_store)):
    """The impact reports the actor may read, newest first."""
    return [ImpactReportPublic(**dict(zip(("id", "calibration_id", "created_at", "actor", "summary"), r, strict=True)))
            for r in store.impact_reports(actor, calibration_id=calibration_id)]


@router.get("/impact-reports/{report_id}", response_model=ImpactReportPublic)
def impact_report_one(report_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return ImpactReportPublic(**dict(zip(("id", "calibration_id", "created_at", "actor", "summary"),
                                         store.get_impact_report(actor, report_id), strict=True)))


@router.get("/impact-reports/{report_id}/measurements", response_model=list[ImpactRowPublic])
def impact_report_rows(report_id: Id, doubtful_only: bool = False, limit: int = Query(1000, ge=1, le=100_000),
                       offset: int = Query(0, ge=0, le=MAX_ID), actor: Actor = Depends(get_actor),
                       store: Store = Depends(get_store)):
    """The affected values of the report the actor may see (its own enterprises'), highest PFA first."""
    import pyarrow.compute as pc

    t = store.impact_details(actor, report_id)
    if doubtful_only:
        t = t.filter(t.column("doubtful"))
    key = pc.if_else(pc.is_nan(t.column("pfa")), -1.0, t.column("pfa"))
    t = t.append_column("_key", key).sort_by([("_key", "descending")]).slice(offset, limit)
    rows = t.select([c for c in ImpactRowPublic.model_fields if c in t.column_names]).to_pylist()
    return [ImpactRowPublic(**{k: _num(v) if isinstance(v, float) else v for k, v in r.items()}) for r in rows]


# -- calibration management -------------------------------------------------------------------


class DueItemPublic(BaseModel):
    instrument_id: int
    code: str
    name: str
    kind: str
    family: str
    tenant_id: int
    enterprise_id: int | None
    lab_id: int | None
    last_calibrated: dt.datetime | None
    due: dt.datetime | None
    days_left: float | None
    status: str
    certificate_no: str | None


class RecallWeekPublic(BaseModel):
    week_start: dt.date
    count: int
    instruments: list[str]


class FamilyIntervalPublic(BaseModel):
    family: str
    instruments: int
    n: int
    in_tolerance: int
    observed_reliability: float
    current_interval_days: float
    recommended_days: float
    calculated_days: float
    rejection_confidence: float
    changed: bool


class CalibrationPlanPublic(BaseModel):
    at: dt.datetime
    horizon_days: int
    counts: dict[str, int]
    items: list[DueItemPublic]
    recall: list[RecallWeekPublic]
    intervals: list[FamilyIntervalPublic]


def plan_public(plan: calmgmt.CalibrationPlan) -> CalibrationPlanPublic:
    from dataclasses import asdict

    return CalibrationPlanPublic(at=plan.at, horizon_days=plan.horizon_days,
                                 counts={s: plan.count(s) for s in calmgmt.STATUSES},
                                 items=[DueItemPublic(**asdict(i)) for i in plan.items],
                                 recall=[RecallWeekPublic(**asdict(w)) for w in plan.recall],
                                 intervals=[FamilyIntervalPublic(**asdict(f)) for f in plan.intervals])


@router.get("/calibration/plan", response_model=CalibrationPlanPublic)
def calibration_plan(horizon_days: int = Query(90, ge=1, le=3660),
                     target_reliability: float = Query(0.9, gt=0, lt=1), at: dt.datetime | None = None,
                     actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Due and overdue instruments of the actor's tenant (the regulator: the region's), the recall
    schedule by week, and the interval each instrument family's history recommends (NCSLI RP-1 A3)."""
    return plan_public(calmgmt.calibration_plan(store, actor, at=_aware(at), horizon_days=horizon_days,
                                                target_reliability=target_reliability))
