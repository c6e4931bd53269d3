"""The measurement service market: needs, ranked labs, orders and deliveries."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingce.errors import InvalidInputError, PermissionDeniedError
from jingce.model import InstrumentKind, Role
from jingce.services import market
from jingce.store.core import ENTERPRISE_ROLES
from jingce.web import i18n
from jingce.web.pages import _store, render
from jingce.web.session import check_csrf, require, session_csrf

router = APIRouter(include_in_schema=False)
MAX_RANKED_NEEDS = 20

i18n.register({
    "market.title": ("计量服务市场", "Measurement service market"),
    "market.intro": ("发布测量或校准需求，按能力与资质匹配实验室，下单并接收带溯源的结果",
                     "Post a measurement or calibration need, match it with qualified labs, order, and receive "
                     "traceable results"),
    "market.intro_lab": ("发给本实验室的服务订单：接受并交付结果", "Service orders addressed to your lab: accept and deliver"),
    "market.intro_reg": ("全市计量服务需求与订单概览（不含测量值）",
                         "The region's measurement service needs and orders (no measured values)"),
    "market.post": ("发布需求", "Post a need"),
    "market.kind": ("类型", "Kind"),
    "market.kind.measurement": ("测量（零件特性）", "measurement (of a part characteristic)"),
    "market.kind.calibration": ("校准（本单位器具）", "calibration (of one of your instruments)"),
    "market.characteristic": ("特性", "Characteristic"),
    "market.instrument": ("器具", "Instrument"),
    "market.serials": ("零件序列号（空格或逗号分隔）", "Part serials (space or comma separated)"),
    "market.quantity": ("量", "Quantity"),
    "market.unit": ("单位", "Unit"),
    "market.range": ("测量范围", "Range"),
    "market.range_min": ("范围下限", "Range from"),
    "market.range_max": ("范围上限", "Range to"),
    "market.required_u": ("要求的扩展不确定度 U（k=2）", "Required expanded uncertainty U (k=2)"),
    "market.or_tolerance": ("或公差（留空则取特性公差）", "or the tolerance (empty: the characteristic's)"),
    "market.lower": ("下限", "Lower limit"),
    "market.upper": ("上限", "Upper limit"),
    "market.rule": ("判定规则", "Decision rule"),
    "market.rule.simple": ("简单接受", "simple acceptance"),
    "market.rule.guarded_acceptance": ("保护带接受", "guarded acceptance"),
    "market.rule.guarded_rejection": ("保护带拒绝", "guarded rejection"),
    "market.rule.iso14253": ("ISO 14253-1", "ISO 14253-1"),
    "market.rule.non_binary": ("非二元判定", "non-binary"),
    "market.deadline": ("截止日期", "Deadline"),
    "market.location": ("地点", "Location"),
    "market.title_field": ("标题（可选）", "Title (optional)"),
    "market.submit": ("发布", "Post"),
    "market.needs": ("我的需求", "Needs"),
    "market.need": ("需求", "Need"),
    "market.status": ("状态", "Status"),
    "market.status.open": ("待下单", "open"),
    "market.status.ordered": ("已下单", "ordered"),
    "market.status.accepted": ("已接受", "accepted"),
    "market.status.delivered": ("已交付", "delivered"),
    "market.status.cancelled": ("已取消", "cancelled"),
    "market.requirement": ("要求", "Requirement"),
    "market.risk": ("误接受概率（全局，假定过程 Cp=1.33）", "False-accept risk (global, assuming a process with Cp = 1.33)"),
    "market.ranked": ("可承接的实验室", "Labs that can serve it"),
    "market.excluded": ("不符合的实验室及原因", "Labs that do not qualify, and why"),
    "market.lab": ("实验室", "Lab"),
    "market.score": ("得分", "Score"),
    "market.cmc": ("CMC（范围内）", "CMC over the range"),
    "market.reasons": ("理由", "Reasons"),
    "market.order": ("下单", "Order"),
    "market.orders": ("订单", "Orders"),
    "market.order_no": ("订单", "Order"),
    "market.no_lab": ("没有实验室能满足该需求", "No lab can serve this need"),
    "market.accept": ("接受订单", "Accept"),
    "market.deliver": ("交付结果", "Deliver"),
    "market.certificate": ("证书/报告编号", "Certificate or report number"),
    "market.lab_instrument": ("所用本实验室器具/标准", "Lab instrument or standard used"),
    "market.values": ("测量值（每行：序列号 值）", "Values (one per line: serial value)"),
    "market.measured_at": ("测量时间", "Measured at"),
    "market.cal_u": ("校准扩展不确定度 U", "Calibration expanded uncertainty U"),
    "market.cal_result": ("校准结论", "Calibration result"),
    "market.delivery": ("交付", "Delivery"),
    "market.delivered_values": ("交付的测量值", "Delivered values"),
    "market.trace": ("溯源", "Traceability"),
    "market.trace_link": ("查看器具及其校准链", "instrument and its calibration chain"),
    "market.calibration_record": ("校准记录", "Calibration record"),
    "market.overview": ("概览", "Overview"),
    "market.open_by_quantity": ("按量统计的待下单需求", "Open needs by quantity"),
    "market.requests_by_status": ("按状态统计的需求", "Needs by status"),
    "market.orders_by_status": ("按状态统计的订单", "Orders by status"),
    "market.orders_by_lab": ("按实验室统计的订单", "Orders by lab"),
    "market.count": ("数量", "Count"),
    "market.price": ("价格", "Price"),
    "market.ordered_at": ("下单时间", "Ordered at"),
    "market.enterprise": ("企业", "Enterprise"),
    "market.not_yet": ("尚未交付", "Not delivered yet"),
    "market.back": ("返回服务市场", "Back to the market"),
})


def _float(value: str, field: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        x = float(value)
    except ValueError:
        raise InvalidInputError(f"{value!r} is not a number", field=field) from None
    if x != x or x in (float("inf"), float("-inf")):
        raise InvalidInputError("must be a finite number", field=field)
    return x


def _int(value: str, field: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise InvalidInputError(f"{value!r} is not an id", field=field)
    return int(value)


def _deadline(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInputError("must be a date (YYYY-MM-DD)", field="deadline") from None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def _manufacturer_view(store, actor) -> dict:
    needs = store.list_service_requests(actor)
    rankings = {}
    for req in [r for r in needs if r.status.value == "open"][:MAX_RANKED_NEEDS]:
        rankings[req.id] = market.rank_labs(store, actor, req.id)
    own = [e for e in store.list_enterprises(actor) if actor.is_admin or e.tenant_id == actor.tenant_id]
    chars = []
    for e in own:
        products = {p.id: p for p in store.list_products(actor, e.id)}
        chars += [(c, products.get(c.product_id)) for c in store.list_characteristics(actor, enterprise_id=e.id)]
    instruments = [i for i in store.list_instruments(actor) if i.kind is InstrumentKind.WORKING
                   and (actor.is_admin or i.tenant_id == actor.tenant_id)]
    return {"needs": needs, "rankings": rankings, "chars": chars[:500], "instruments": instruments[:500]}


@router.get("/market")
def market_page(request: Request) -> Response:
    actor = require(request, "market")
    store = _store(request)
    labs = {lab.id: lab for lab in store.list_labs(actor)}
    ctx: dict = {"orders": store.list_service_orders(actor), "labs": labs, "overview": None, "needs": [],
                 "rankings": {}, "chars": [], "instruments": [], "rules": market.GUARD_BAND_SIGN,
                 "can_post": actor.role in ENTERPRISE_ROLES, "is_lab": actor.role is Role.LAB}
    if actor.role in ENTERPRISE_ROLES or actor.is_admin:
        ctx |= _manufacturer_view(store, actor)
    if actor.is_regulator or actor.is_admin:
        ctx["overview"] = store.market_overview(actor)
        ctx["needs"] = ctx["needs"] or store.list_service_requests(actor)
    requests_by_id = {r.id: r for r in ctx["needs"]}
    if actor.role is Role.LAB:
        requests_by_id = {r.id: r for r in store.list_service_requests(actor)}
    ents = {e.id: e.name for e in store.list_enterprises(actor)}
    return render(request, "market.html", actor=actor, active="market", requests_by_id=requests_by_id, ents=ents,
                  fq=market.fmt_quantity, **ctx)


@router.post("/market/requests")
def post_need(request: Request, csrf: str = Form("", max_length=128), kind: str = Form("", max_length=16),
              title: str = Form("", max_length=256), characteristic_id: str = Form("", max_length=12),
              instrument_id: str = Form("", max_length=12), serials: str = Form("", max_length=100_000),
              quantity: str = Form("", max_length=64), unit: str = Form("", max_length=32),
              range_min: str = Form("", max_length=32), range_max: str = Form("", max_length=32),
              required_uncertainty: str = Form("", max_length=32), lower_limit: str = Form("", max_length=32),
              upper_limit: str = Form("", max_length=32), decision_rule: str = Form("", max_length=32),
              deadline: str = Form("", max_length=32), location: str = Form("", max_length=256)) -> Response:
    actor = require(request, "market")
    check_csrf(session_csrf(request), csrf)
    data = {"kind": kind, "title": title.strip() or None, "quantity": quantity.strip() or None,
            "unit": unit.strip() or None, "location": location.strip() or None, "deadline": _deadline(deadline),
            "characteristic_id": _int(characteristic_id, "characteristic_id"),
            "instrument_id": _int(instrument_id, "instrument_id"),
            "serials": [s for s in re.split(r"[\s,;]+", serials) if s],
            "range_min": _float(range_min, "range_min"), "range_max": _float(range_max, "range_max"),
            "required_uncertainty": _float(required_uncertainty, "required_uncertainty"),
            "lower_limit": _float(lower_limit, "lower_limit"), "upper_limit": _float(upper_limit, "upper_limit")}
    data["decision_rule"] = decision_rule.strip() or (None if data["required_uncertainty"] is not None else "simple")
    if actor.role not in ENTERPRISE_ROLES and not actor.is_admin:
        raise PermissionDeniedError("only a manufacturer posts needs", field="role")
    req = market.post_request(_store(request), actor, data)
    return RedirectResponse(f"/market#need-{req.id}", status_code=303)


@router.post("/market/requests/{request_id}/order")
def order_need(request: Request, request_id: int, csrf: str = Form("", max_length=128),
               lab_id: str = Form("", max_length=12)) -> Response:
    actor = require(request, "market")
    check_csrf(session_csrf(request), csrf)
    lab = _int(lab_id, "lab_id")
    if lab is None:
        raise InvalidInputError("choose a lab", field="lab_id")
    order = market.place_order(_store(request), actor, request_id, lab)
    return RedirectResponse(f"/market/orders/{order.id}", status_code=303)


@router.get("/market/orders/{order_id}")
def order_page(request: Request, order_id: int) -> Response:
    actor = require(request, "market")
    store = _store(request)
    order = store.get_service_order(actor, order_id)
    req = store.get_service_request(actor, order.request_id)
    lab = store.get_lab(actor, order.lab_id)
    values = [] if actor.is_regulator else market.order_values(store, actor, order_id)
    lab_instruments = []
    if actor.role is Role.LAB:
        lab_instruments = [i for i in store.list_instruments(actor) if i.tenant_id == actor.tenant_id]
    instruments = sorted({v["instrument_id"] for v in values if v["instrument_id"] is not None})
    ent = store.get_enterprise(actor, req.enterprise_id).name if (actor.role is not Role.LAB) else None
    return render(request, "market_order.html", actor=actor, active="market", order=order, req=req, lab=lab,
                  values=values, instruments=instruments, lab_instruments=lab_instruments, enterprise=ent,
                  is_lab=actor.role is Role.LAB, fq=market.fmt_quantity)


@router.post("/market/orders/{order_id}/accept")
def accept_order(request: Request, order_id: int, csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "market")
    check_csrf(session_csrf(request), csrf)
    market.accept_order(_store(request), actor, order_id)
    return RedirectResponse(f"/market/orders/{order_id}", status_code=303)


@router.post("/market/orders/{order_id}/deliver")
def deliver_order(request: Request, order_id: int, csrf: str = Form("", max_length=128),
                  certificate_no: str = Form("", max_length=128), instrument_id: str = Form("", max_length=12),
                  values: str = Form("", max_length=500_000), expanded_uncertainty: str = Form("", max_length=32),
                  result: str = Form("", max_length=32)) -> Response:
    actor = require(request, "market")
    check_csrf(session_csrf(request), csrf)
    pairs = []
    for n, line in enumerate(v for v in values.splitlines() if v.strip()):
        parts = re.split(r"[\s,;]+", line.strip())
        if len(parts) != 2:
            raise InvalidInputError(f"line {n + 1}: expected 'serial value'", field="values")
        pairs.append({"serial": parts[0], "value": _float(parts[1], f"values.{n}.value")})
    data = {"certificate_no": certificate_no, "instrument_id": _int(instrument_id, "instrument_id"), "values": pairs,
            "expanded_uncertainty": _float(expanded_uncertainty, "expanded_uncertainty"),
            "result": result.strip() or None}
    market.deliver(_store(request), actor, order_id, data)
    return RedirectResponse(f"/market/orders/{order_id}", status_code=303)
