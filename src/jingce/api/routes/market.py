"""The measurement service market: needs, ranked labs, orders, deliveries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import MAX_ID, Id, RequestModel, UnitStr, require_role
from jingce.model import CalibrationResult, Role
from jingce.model.market import DECISION_RULES, RequestStatus, ServiceKind, ServiceOrder, ServiceRequest
from jingce.services import market
from jingce.store import Actor, Store

router = APIRouter(tags=["market"])
BIG = 1e12
MANUFACTURER = (Role.ENTERPRISE_USER, Role.ENTERPRISE_ADMIN)


class ServiceRequestIn(RequestModel):
    """A need. Calibration: ``instrument_id`` (unit, quantity, range default from it); measurement:
    ``characteristic_id`` and ``serials`` (unit and tolerance default from the characteristic).
    Give either ``required_uncertainty`` (U, k = 2) or the tolerance and ``decision_rule``."""

    kind: ServiceKind
    title: str | None = Field(None, max_length=256)
    enterprise_id: int | None = Field(None, ge=1, le=MAX_ID)
    characteristic_id: int | None = Field(None, ge=1, le=MAX_ID)
    instrument_id: int | None = Field(None, ge=1, le=MAX_ID)
    quantity: str | None = Field(None, min_length=1, max_length=64)
    unit: UnitStr | None = None
    range_min: float | None = Field(None, ge=-BIG, le=BIG)
    range_max: float | None = Field(None, ge=-BIG, le=BIG)
    required_uncertainty: float | None = Field(None, gt=0, le=BIG)
    lower_limit: float | None = Field(None, ge=-BIG, le=BIG)
    upper_limit: float | None = Field(None, ge=-BIG, le=BIG)
    decision_rule: Literal[DECISION_RULES] | None = None  # type: ignore[valid-type]
    serials: list[str] = Field(default_factory=list, max_length=10_000)
    deadline: dt.datetime
    location: str | None = Field(None, max_length=256)


class OrderIn(RequestModel):
    request_id: int = Field(ge=1, le=MAX_ID)
    lab_id: int = Field(ge=1, le=MAX_ID)


class SerialValue(RequestModel):
    serial: str = Field(min_length=1, max_length=128)
    value: float = Field(ge=-BIG, le=BIG)


class DeliveryIn(RequestModel):
    """What the lab delivers: for a measurement order one value per serial (in the need's unit);
    for a calibration order the calibration result. ``instrument_id``: the lab's instrument or
    standard used (the traceability of the results)."""

    certificate_no: str = Field(min_length=1, max_length=128)
    instrument_id: int = Field(ge=1, le=MAX_ID)
    values: list[SerialValue] = Field(default_factory=list, max_length=10_000)
    measured_at: dt.datetime | None = None
    calibrated_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    expanded_uncertainty: float | None = Field(None, gt=0, le=BIG)
    coverage_factor: float | None = Field(None, gt=0, le=100)
    result: CalibrationResult | None = None
    error_as_found: float | None = Field(None, ge=-BIG, le=BIG)
    error_as_left: float | None = Field(None, ge=-BIG, le=BIG)
    unit: UnitStr | None = None


class ReasonPublic(BaseModel):
    code: str
    zh: str
    en: str


class RequirementPublic(BaseModel):
    required_uncertainty: float
    unit: str
    basis: ReasonPublic
    tur: float | None
    decision_rule: str | None
    guard_band: float | None
    false_accept_risk: float | None
    false_reject_risk: float | None


class RankedLabPublic(BaseModel):
    lab_id: int
    code: str
    name: str
    level: str
    score: float
    cmc: float
    margin: float | None
    price: float | None
    scope_index: int
    false_accept_risk: float | None
    reasons: list[ReasonPublic]


class ExcludedLabPublic(BaseModel):
    lab_id: int
    code: str
    name: str
    reasons: list[ReasonPublic]


class RankingPublic(BaseModel):
    request: ServiceRequest
    requirement: RequirementPublic
    ranked: list[RankedLabPublic]
    excluded: list[ExcludedLabPublic]


class DeliveredValue(BaseModel):
    serial: str | None
    value: float
    unit: str
    measured_at: dt.datetime
    instrument_id: int | None
    characteristic_id: int
    characteristic: str
    part_number: str
    batch: str
    position: int


class OverviewPublic(BaseModel):
    open_requests_by_quantity: dict[str, int]
    requests_by_status: dict[str, int]
    orders_by_status: dict[str, int]
    orders_by_lab: dict[str, int]


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else x


def ranking_public(rk: market.Ranking) -> RankingPublic:
    req = dataclasses.asdict(rk.requirement)
    req["false_accept_risk"] = _finite(req["false_accept_risk"])
    req["false_reject_risk"] = _finite(req["false_reject_risk"])
    ranked = []
    for r in rk.ranked:
        d = dataclasses.asdict(r)
        d["margin"], d["false_accept_risk"] = _finite(d["margin"]), _finite(d["false_accept_risk"])
        ranked.append(d)
    return RankingPublic(request=rk.request, requirement=req, ranked=ranked,
                         excluded=[dataclasses.asdict(e) for e in rk.excluded])


@router.get("/market/requests", response_model=list[ServiceRequest])
def list_requests(status: RequestStatus | None = Query(None), actor: Actor = Depends(get_actor),
                  store: Store = Depends(get_store)):
    """Needs the caller may see: a manufacturer its own, a lab those behind its orders, the regulator all."""
    return store.list_service_requests(actor, status=None if status is None else status.value)


@router.post("/market/requests", response_model=ServiceRequest, status_code=201)
def post_request(body: ServiceRequestIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Post a need (a manufacturer's enterprise users)."""
    require_role(actor, *MANUFACTURER)
    return market.post_request(store, actor, body.model_dump())


@router.get("/market/requests/{request_id}", response_model=ServiceRequest)
def get_request(request_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_service_request(actor, request_id)


@router.get("/market/requests/{request_id}/ranking", response_model=RankingPublic)
def ranking(request_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The qualified labs able to serve the need, best first with their reasons, and every other
    lab with why it does not qualify (Chinese and English)."""
    require_role(actor, *MANUFACTURER, Role.REGULATOR)
    return ranking_public(market.rank_labs(store, actor, request_id))


@router.post("/market/orders", response_model=ServiceOrder, status_code=201)
def order(body: OrderIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Order a need from one of its ranked labs (the lab is notified)."""
    require_role(actor, *MANUFACTURER)
    return market.place_order(store, actor, body.request_id, body.lab_id)


@router.get("/market/orders", response_model=list[ServiceOrder])
def list_orders(actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Orders the caller may see: a manufacturer its own, a lab those addressed to it, the regulator all."""
    return store.list_service_orders(actor)


@router.get("/market/orders/{order_id}", response_model=ServiceOrder)
def get_order(order_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    return store.get_service_order(actor, order_id)


@router.post("/market/orders/{order_id}/accept", response_model=ServiceOrder)
def accept(order_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The lab accepts an order addressed to it (the manufacturer is notified)."""
    require_role(actor, Role.LAB)
    return market.accept_order(store, actor, order_id)


@router.post("/market/orders/{order_id}/deliver", response_model=ServiceOrder)
def deliver(order_id: Id, body: DeliveryIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The lab delivers: measured values land in the manufacturer's data (one batch, once), or a
    calibration of the manufacturer's instrument is issued. Delivering again changes nothing."""
    require_role(actor, Role.LAB)
    return market.deliver(store, actor, order_id, body.model_dump())


@router.get("/market/orders/{order_id}/values", response_model=list[DeliveredValue])
def delivered_values(order_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The values the order delivered (the manufacturer and the lab; not the regulator)."""
    return market.order_values(store, actor, order_id)


@router.get("/market/overview", response_model=OverviewPublic)
def overview(actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Counts of needs and orders for the regulator (no values, no names of parts)."""
    require_role(actor, Role.REGULATOR)
    return store.market_overview(actor)
