"""The precision planner and gage studies."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import MAX_ID, Id, RequestModel, require_role
from jingce.model import Role
from jingce.model.gage import GageStudy, GageStudyKind
from jingce.services import planner
from jingce.store import Actor, Store

router = APIRouter(tags=["planner"])


class GageStudyIn(RequestModel):
    """A study of ``instrument_id`` on the characteristic: ``data`` holds the kernel's inputs
    (type1: readings, reference; grr: readings as parts x appraisers x trials, or part/appraiser/
    value; vda5: the u_* components)."""

    instrument_id: int = Field(ge=1, le=MAX_ID)
    kind: GageStudyKind
    data: dict[str, Any] = Field(default_factory=dict)
    studied_at: dt.datetime | None = None


class OptionPublic(BaseModel):
    kind: str
    ref: str | None
    name: str | None
    cost: float | None
    u: float | None
    tur: float | None
    risk: float | None
    text_zh: str
    text_en: str
    lab_id: int | None
    instrument_id: int | None


class PrecisionRowPublic(BaseModel):
    characteristic_id: int
    product_id: int
    key: str
    name: str | None
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    tolerance: float | None
    n_values: int
    process_mean: float | None
    process_sd: float | None
    process_source: str
    instrument_ids: list[int]
    instrument_id: int | None
    instrument_code: str | None
    u: float | None
    u_source: str | None
    tur: float | None
    pct_grr: float | None
    ndc: float | None
    q_mp: float | None
    q_mp_limit: float | None
    cgk: float | None
    risk_tur: float | None
    risk_grr: float | None
    risk_q_mp: float | None
    risk: float | None
    producer_risk: float | None
    flags: list[str]
    status: str
    light: str
    option: OptionPublic


class PrecisionPlanPublic(BaseModel):
    """The plan: ``rows`` (one per characteristic, highest false-accept risk first) for the
    enterprise's users and the admin; the regulator gets the ``summary`` only (rows empty)."""

    enterprise_id: int
    enterprise_code: str | None
    generated_at: dt.datetime
    process_source: str | None
    summary: dict
    rows: list[PrecisionRowPublic]


def _num(x):
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else x


def _row(r: planner.PrecisionRow) -> PrecisionRowPublic:
    d = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    d = {k: (_num(v) if isinstance(v, float) else v) for k, v in d.items()}
    d["option"] = OptionPublic(**{k: (_num(v) if isinstance(v, float) else v)
                                  for k, v in dataclasses.asdict(r.option).items()})
    d["instrument_ids"], d["flags"], d["light"] = list(r.instrument_ids), list(r.flags), r.light
    return PrecisionRowPublic(**d)


@router.post("/characteristics/{characteristic_id}/gage-studies", response_model=GageStudy, status_code=201)
def record_gage_study(characteristic_id: Id, body: GageStudyIn, actor: Actor = Depends(get_actor),
                      store: Store = Depends(get_store)):
    """Run a gage study (type-1, gage R&R, VDA 5) against the characteristic's tolerance and record
    it (enterprise users of the owning tenant)."""
    require_role(actor, Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_USER)
    return planner.record_gage_study(store, actor, characteristic_id, body.instrument_id, body.kind.value, body.data,
                                     studied_at=body.studied_at)


@router.get("/characteristics/{characteristic_id}/gage-studies", response_model=list[GageStudy])
def gage_studies(characteristic_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The gage studies of a characteristic, oldest first (whoever reads its values)."""
    return planner.gage_studies(store, actor, characteristic_id)


@router.get("/enterprises/{enterprise_id}/precision-plan", response_model=PrecisionPlanPublic)
def precision_plan(enterprise_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Where measurement is inadequate for the tolerance (TUR < 4, %GRR > 30 %, Q_MP above its
    limit), the false-accept risk it causes, and the cheapest adequate option."""
    require_role(actor, Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_USER, Role.REGULATOR)
    if actor.is_regulator:
        summary = planner.precision_summary(store, actor, enterprise_id)
        return PrecisionPlanPublic(enterprise_id=enterprise_id, enterprise_code=None,
                                   generated_at=dt.datetime.now(dt.UTC), process_source=None, summary=summary, rows=[])
    plan = planner.plan_precision(store, actor, enterprise_id)
    return PrecisionPlanPublic(enterprise_id=plan.enterprise_id, enterprise_code=plan.enterprise_code,
                               generated_at=plan.generated_at, process_source=plan.process_source,
                               summary=plan.summary(), rows=[_row(r) for r in plan.rows])
