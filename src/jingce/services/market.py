"""The measurement service market: post a need, rank the qualified labs, order, accept, deliver.

The required uncertainty
------------------------
A need gives either the expanded uncertainty U (k = 2) its result must not exceed, or the
tolerance [LSL, USL] and the decision rule the result must support. From a tolerance, U is set
so that the test uncertainty ratio

    TUR = (USL - LSL) / (2 U) >= 4

(ANSI/NCSL Z540.3-2006 Handbook, 5.3, the 4:1 TUR that keeps the false-accept probability of
simple acceptance near 2 %; ILAC-G8:09/2019 4.2.1 and JCGM 106:2012 8.3 describe simple
acceptance, w = 0), so U = (USL - LSL) / 8. For a guard-banded rule (guarded acceptance, ISO
14253-1, non-binary: w = U; guarded rejection: w = -U) the same U is asked, and the resulting
global false-accept (consumer's) and false-reject (producer's) risks are stated with the
:mod:`jingce.kernels.conformity` kernel (JCGM 106:2012 9.5), for a centred Gaussian process with
Cp = 4/3 (sigma = (USL - LSL) / 8, the usual minimum capability of ISO 22514-2 practice): the
process is an assumption, said so on the page.

Ranking
-------
A lab qualifies for a need when it is ``qualified``; a line of its scope has the need's quantity
in a compatible unit and covers the need's whole range (units converted with
:func:`jingce.model.units.conversion_factor`); and that line's CMC over the range (the larger of
``ScopeEntry.cmc_at`` at both ends: the CMC is ``a + b |x|``, so its maximum over an interval is at
an end) is at most the required U. Among qualifying lines the one with the smallest CMC is used.
Every other lab is listed with why it does not qualify (Chinese and English).

The score (0-100) of a qualifying lab adds: capability 50 x min(1, ln(U/CMC) / ln 4) (full marks at a
4:1 margin); price 25 x (lowest price among qualifying labs / this lab's price) when the lab
publishes a price for the line (none: 0); proficiency 25 - 10 per flagged proficiency-testing
result of the last four years (not satisfactory, or flagged e.g. uncertainty below its CMC), at
least 0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from jingce.errors import InvalidInputError
from jingce.kernels import conformity
from jingce.model import Calibration, CalibrationResult, Lab, QualificationState, ScopeEntry
from jingce.model.market import ServiceKind, ServiceOrder, ServiceRequest
from jingce.model.units import compatible, conversion_factor, has_dimension, parse_unit
from jingce.store import Actor, Store

TUR_MIN = 4.0
"""Minimum test uncertainty ratio (ANSI/NCSL Z540.3-2006 Handbook 5.3: 4:1)."""

PROCESS_SIGMA_FRACTION = 1 / 8
"""Assumed process standard deviation as a fraction of the tolerance (Cp = 4/3), for the stated risks."""

PROFICIENCY_WINDOW_DAYS = 4 * 365
"""Proficiency results counted in the score: the last four years (one accreditation cycle, within
which ILAC-P9:06/2014 4.4 expects a lab to cover its scope's sub-disciplines)."""

GUARD_BAND_SIGN = {"simple": 0.0, "guarded_acceptance": 1.0, "guarded_rejection": -1.0, "iso14253": 1.0,
                   "non_binary": 1.0}
"""Guard band w = sign x U per decision rule (ILAC-G8:2019 4.2; ISO 14253-1:2017 5.2)."""

_STATE_ZH = {"applied": "申请中（未获资质）", "suspended": "资质已暂停", "revoked": "资质已撤销", "qualified": "已获资质"}
_STATE_EN = {"applied": "applied, not qualified", "suspended": "suspended", "revoked": "revoked",
             "qualified": "qualified"}
_LEVEL = {"national": ("国家计量院", "national institute"), "provincial": ("省级计量院", "provincial institute"),
          "lab": ("校准/检测实验室", "calibration or testing lab"), "in_house": ("企业内部计量室", "in-house lab")}


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason, in Chinese and English; ``code`` is stable for programs."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a need asks of a lab: U (k = 2) in the need's unit, and how it was set."""

    required_uncertainty: float
    unit: str
    basis: Reason
    tur: float | None  # the TUR at the required U (None when U was given without a tolerance)
    decision_rule: str | None
    guard_band: float | None
    false_accept_risk: float | None  # global consumer's risk at the required U (JCGM 106 9.5)
    false_reject_risk: float | None


@dataclass(frozen=True, slots=True)
class RankedLab:
    lab_id: int
    code: str
    name: str
    level: str
    score: float
    cmc: float  # over the need's range, in the need's unit
    margin: float  # required U / CMC
    price: float | None  # CNY per item
    scope_index: int
    false_accept_risk: float | None  # at the lab's CMC, under the need's rule
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class ExcludedLab:
    lab_id: int
    code: str
    name: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    request: ServiceRequest
    requirement: Requirement
    ranked: tuple[RankedLab, ...]
    excluded: tuple[ExcludedLab, ...]


# -- formatting --------------------------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:.4g}"


def fmt_quantity(value: float, unit: str) -> str:
    """A small length in µm when the unit is mm or m (2.1 µm reads better than 0.0021 mm)."""
    if unit in ("mm", "m", "cm") and abs(value * conversion_factor(unit, "um")) < 1000:
        return f"{_num(value * conversion_factor(unit, 'um'))} µm"
    return f"{_num(value)} {unit}"


def _range(lo: float, hi: float, unit: str) -> str:
    return f"{_num(lo)}–{_num(hi)} {unit}"


# -- the requirement ---------------------------------------------------------------------------


def _risks(req: ServiceRequest, big_u: float) -> tuple[float, float, float]:
    lo, hi = req.lower_limit, req.upper_limit
    w = GUARD_BAND_SIGN[req.decision_rule or "simple"] * big_u
    if hi - lo - 2 * w <= 0:
        return w, math.nan, math.nan
    risk = conformity.global_risk((lo + hi) / 2, (hi - lo) * PROCESS_SIGMA_FRACTION, big_u / 2, lo, hi, guard_band=w)
    return w, risk.consumer_risk, risk.producer_risk


def requirement(req: ServiceRequest) -> Requirement:
    """The expanded uncertainty a lab must reach for ``req`` and its basis (module docstring)."""
    if req.required_uncertainty is not None:
        u = req.required_uncertainty
        return Requirement(u, req.unit, Reason("given", f"需求方给定 U ≤ {fmt_quantity(u, req.unit)}",
                                                f"U ≤ {fmt_quantity(u, req.unit)} as given by the manufacturer"),
                           None, req.decision_rule, None, None, None)
    tol = req.upper_limit - req.lower_limit
    u = tol / (2 * TUR_MIN)
    w, pfa, pfr = _risks(req, u)
    basis = Reason("tur", f"由公差 {_range(req.lower_limit, req.upper_limit, req.unit)} 按 TUR = (USL−LSL)/(2U) ≥ 4 "
                          f"得 U ≤ {fmt_quantity(u, req.unit)}（ANSI/NCSL Z540.3 手册 4:1）",
                   f"from the tolerance {_range(req.lower_limit, req.upper_limit, req.unit)} with "
                   f"TUR = (USL-LSL)/(2U) >= 4: U <= {fmt_quantity(u, req.unit)} (ANSI/NCSL Z540.3 handbook, 4:1)")
    return Requirement(u, req.unit, basis, TUR_MIN, req.decision_rule, w, pfa, pfr)


# -- ranking -----------------------------------------------------------------------------------


def _line_cmc(entry: ScopeEntry, req: ServiceRequest) -> tuple[bool, float, float]:
    """(covers the range, CMC over the range in the need's unit, factor need unit -> entry unit)."""
    f = conversion_factor(req.unit, entry.unit)
    lo, hi = sorted((req.range_min * f, req.range_max * f))
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    covers = entry.range_min - eps <= lo and hi <= entry.range_max + eps
    cmc = max(entry.cmc_at(lo), entry.cmc_at(hi)) / f
    return covers, cmc, f


def _quantity_match(entry: ScopeEntry, req: ServiceRequest) -> bool:
    return entry.quantity.strip().lower() == req.quantity.strip().lower() and compatible(entry.unit, req.unit)


def _assess(lab: Lab, req: ServiceRequest, need: Requirement):
    """Either (None, reasons) for a lab that does not qualify, or (best (index, entry, cmc), [])."""
    state = lab.qualification.value
    if lab.qualification is not QualificationState.QUALIFIED:
        return None, [Reason(state, _STATE_ZH[state], _STATE_EN[state])]
    lines = [(i, e) for i, e in enumerate(lab.scope) if _quantity_match(e, req)]
    if not lines:
        return None, [Reason("no_quantity", f"能力范围中没有 {req.quantity}", f"scope has no {req.quantity}")]
    assessed = [(i, e, *_line_cmc(e, req)) for i, e in lines]
    covering = [(i, e, cmc) for i, e, covers, cmc, _ in assessed if covers]
    wanted = _range(req.range_min, req.range_max, req.unit)
    if not covering:
        have = ", ".join(_range(e.range_min, e.range_max, e.unit) for _, e in lines)
        return None, [Reason("range", f"范围 {have} 不覆盖 {wanted}",
                             f"range {have} does not cover {wanted}" if len(lines) == 1
                             else f"ranges {have} do not cover {wanted}")]
    best = min(covering, key=lambda c: (c[2], c[0]))
    if best[2] > need.required_uncertainty * (1 + 1e-9):
        cmc, u = fmt_quantity(best[2], req.unit), fmt_quantity(need.required_uncertainty, req.unit)
        return None, [Reason("cmc", f"CMC {cmc} > 要求 {u}", f"CMC {cmc} > required {u}")]
    return best, []


def rank_labs(store: Store, actor: Actor, request_id: int) -> Ranking:
    """The qualified labs able to serve the need, best first, and every other lab with why not."""
    req = store.get_service_request(actor, request_id)
    need = requirement(req)
    labs = store.list_labs(actor)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=PROFICIENCY_WINDOW_DAYS)
    flags = store.lab_proficiency_flags([lab.id for lab in labs], since=since)
    ok, excluded = [], []
    for lab in labs:
        best, why = _assess(lab, req, need)
        if best is None:
            excluded.append(ExcludedLab(lab.id, lab.code, lab.name, tuple(why)))
        else:
            ok.append((lab, best))
    prices = [p for p in (getattr(e, "price", None) for _, (_, e, _) in ok) if p is not None]
    cheapest = min(prices) if prices else None
    ranked = []
    for lab, (index, entry, cmc) in ok:
        margin = need.required_uncertainty / cmc if cmc > 0 else math.inf
        reasons = [Reason("cmc", f"CMC {fmt_quantity(cmc, req.unit)} ≤ 要求 {fmt_quantity(need.required_uncertainty, req.unit)}"
                                 f"（裕度 {margin:.2g} 倍）",
                          f"CMC {fmt_quantity(cmc, req.unit)} <= required {fmt_quantity(need.required_uncertainty, req.unit)}"
                          f" (margin {margin:.2g}x)")]
        score = 50 * min(1.0, math.log(margin) / math.log(TUR_MIN)) if margin > 1 else 0.0
        price = getattr(entry, "price", None)
        if price is None:
            reasons.append(Reason("no_price", "未公布价格", "no price published"))
        else:
            score += 25 * (1.0 if price == 0 else cheapest / price)
            reasons.append(Reason("price", f"价格 每件 {_num(price)} 元", f"price {_num(price)} CNY per item"))
        flagged = flags.get(lab.id, [])
        score += max(0, 25 - 10 * len(flagged))
        if flagged:
            names = ", ".join(f"{f['round']} {f['evaluation'] or ''} {' '.join(f['flags'])}".strip() for f in flagged[:3])
            reasons.append(Reason("proficiency", f"能力验证有 {len(flagged)} 项异常：{names}",
                                  f"{len(flagged)} flagged proficiency result(s): {names}"))
        else:
            reasons.append(Reason("proficiency_ok", "能力验证无异常记录", "no flagged proficiency results"))
        zh, en = _LEVEL.get(lab.level.value, (lab.level.value, lab.level.value))
        reasons.append(Reason("level", f"级别：{zh}", f"level: {en}"))
        pfa = None
        if req.lower_limit is not None and req.upper_limit is not None:
            _, pfa, _ = _risks(req, cmc)
            if not math.isnan(pfa):
                rule = req.decision_rule or "simple"
                reasons.append(Reason("risk", f"按其 CMC 与判定规则 {rule}，误接受概率 {pfa:.2%}",
                                      f"false-accept risk {pfa:.2%} at its CMC under the {rule} rule"))
        if req.location and req.location.strip() and req.location.strip() in f"{lab.name} {lab.code}":
            reasons.append(Reason("location", f"地点相符：{req.location}", f"location matches: {req.location}"))
        ranked.append(RankedLab(lab.id, lab.code, lab.name, lab.level.value, round(score, 1), cmc, margin, price,
                                index, pfa, tuple(reasons)))
    ranked.sort(key=lambda r: (-r.score, r.cmc, r.lab_id))
    return Ranking(req, need, tuple(ranked), tuple(excluded))


# -- posting a need ----------------------------------------------------------------------------


def _aware(value, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError("must be an ISO 8601 date-time", field=field) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidInputError("must be a timezone-aware date-time", field=field)
    return value


def post_request(store: Store, actor: Actor, data: dict) -> ServiceRequest:
    """Post a need from ``data`` (the keys of :class:`ServiceRequest`), filling defaults from the
    instrument (calibration: its unit, quantity, range and enterprise) or the characteristic
    (measurement: its unit, its tolerance when no U is given, its product's enterprise)."""
    data = {k: v for k, v in data.items() if v is not None and v != ""}
    try:
        kind = ServiceKind(data.get("kind", ""))
    except ValueError:
        raise InvalidInputError("must be calibration or measurement", field="kind") from None
    if "unit" in data:
        parse_unit(data["unit"], "unit")
    defaults: dict = {}
    if kind is ServiceKind.CALIBRATION:
        if "instrument_id" not in data:
            raise InvalidInputError("a calibration request names the instrument to calibrate", field="instrument_id")
        inst = store.get_instrument(actor, data["instrument_id"])
        defaults = {"unit": inst.unit, "quantity": inst.quantity, "range_min": inst.range_min,
                    "range_max": inst.range_max, "enterprise_id": inst.enterprise_id,
                    "title": f"{inst.code} {inst.name}"}
        data.pop("characteristic_id", None)
        data.pop("serials", None)
        source_unit = inst.unit
    else:
        if "characteristic_id" not in data:
            raise InvalidInputError("a measurement request names the characteristic", field="characteristic_id")
        ch = store.get_characteristic(actor, data["characteristic_id"])
        prod = store.get_product(actor, ch.product_id)
        unit = data.get("unit", ch.unit)
        if not compatible(unit, ch.unit):
            raise InvalidInputError(f"unit {unit!r} is not compatible with the characteristic's {ch.unit!r}",
                                    field="unit")
        f = conversion_factor(ch.unit, unit)
        defaults = {"unit": ch.unit, "enterprise_id": prod.enterprise_id,
                    "title": f"{prod.part_number} {ch.key}"}
        if has_dimension(unit, "[length]"):
            defaults["quantity"] = "length"
        if "required_uncertainty" not in data and "lower_limit" not in data and "upper_limit" not in data:
            if ch.lower_limit is not None:
                data["lower_limit"] = ch.lower_limit * f
            if ch.upper_limit is not None:
                data["upper_limit"] = ch.upper_limit * f
        if ch.lower_limit is not None and ch.upper_limit is not None:
            defaults["range_min"], defaults["range_max"] = ch.lower_limit * f, ch.upper_limit * f
        data.pop("instrument_id", None)
        source_unit = ch.unit
    for key, value in defaults.items():
        if key not in data and value is not None:
            data[key] = value
    if not compatible(data["unit"], source_unit):
        raise InvalidInputError(f"unit {data['unit']!r} is not compatible with {source_unit!r}", field="unit")
    for key in ("quantity", "range_min", "range_max", "deadline"):
        if key not in data:
            raise InvalidInputError("is required", field=key)
    if "enterprise_id" not in data:
        raise InvalidInputError("name the enterprise the need is for", field="enterprise_id")
    data["deadline"] = _aware(data["deadline"], "deadline")
    data["serials"] = tuple(data.get("serials", ()))
    req = ServiceRequest(kind=kind, **{k: v for k, v in data.items() if k != "kind"})
    return store.add_service_request(actor, req)


# -- orders ------------------------------------------------------------------------------------


def place_order(store: Store, actor: Actor, request_id: int, lab_id: int) -> ServiceOrder:
    """Order a need from one of its ranked labs (an unranked lab is refused with its reasons)."""
    ranking = rank_labs(store, actor, request_id)
    chosen = next((r for r in ranking.ranked if r.lab_id == lab_id), None)
    if chosen is None:
        out = next((e for e in ranking.excluded if e.lab_id == lab_id), None)
        why = "; ".join(r.en for r in out.reasons) if out else "unknown lab"
        raise InvalidInputError(f"lab {lab_id} does not qualify for this need: {why}", field="lab_id")
    items = max(1, len(ranking.request.serials))
    price = None if chosen.price is None else chosen.price * items
    return store.add_service_order(actor, request_id, lab_id, scope_index=chosen.scope_index, price=price)


def accept_order(store: Store, actor: Actor, order_id: int) -> ServiceOrder:
    return store.accept_service_order(actor, order_id)


def deliver(store: Store, actor: Actor, order_id: int, data: dict) -> ServiceOrder:
    """The lab delivers an accepted order.

    ``data``: ``certificate_no``, ``instrument_id`` (the lab's instrument or standard used) and,
    for a measurement order, ``values`` (``[{"serial", "value"}]`` in the need's unit) and
    ``measured_at`` (default now); for a calibration order ``expanded_uncertainty`` (k =
    ``coverage_factor``, default 2), ``calibrated_at`` (default now), ``valid_until`` (default a year
    later), ``result``, ``error_as_found``,
    ``error_as_left``.
    """
    order = store.get_service_order(actor, order_id)
    req = store.get_service_request(actor, order.request_id)
    now = dt.datetime.now(dt.UTC)
    cert = (data.get("certificate_no") or "").strip()
    if not cert:
        raise InvalidInputError("is required", field="certificate_no")
    if data.get("instrument_id") is None:
        raise InvalidInputError("name the lab instrument used", field="instrument_id")
    if req.kind is ServiceKind.MEASUREMENT:
        values: dict[str, float] = {}
        for i, item in enumerate(data.get("values") or ()):
            serial = str(item.get("serial", "")).strip()
            if serial in values:
                raise InvalidInputError(f"serial {serial!r} is given twice", field=f"values.{i}.serial")
            value = float(item.get("value"))
            if not math.isfinite(value):
                raise InvalidInputError("must be a finite number", field=f"values.{i}.value")
            values[serial] = value
        measured_at = _aware(data.get("measured_at") or now, "measured_at")
        return store.deliver_measurements(actor, order_id, instrument_id=int(data["instrument_id"]),
                                          certificate_no=cert, values=values, measured_at=measured_at)
    if data.get("expanded_uncertainty") is None:
        raise InvalidInputError("a calibration states its expanded uncertainty", field="expanded_uncertainty")
    calibrated_at = _aware(data.get("calibrated_at") or now, "calibrated_at")
    valid_until = data.get("valid_until")
    if valid_until is None:
        valid_until = calibrated_at + dt.timedelta(days=365)
    cal = Calibration(instrument_id=req.instrument_id, lab_id=order.lab_id, certificate_no=cert,
                      calibrated_at=calibrated_at, valid_until=_aware(valid_until, "valid_until"),
                      result=data.get("result") or CalibrationResult.PASS,
                      error_as_found=data.get("error_as_found"), error_as_left=data.get("error_as_left"),
                      expanded_uncertainty=data["expanded_uncertainty"],
                      coverage_factor=data.get("coverage_factor") or 2.0, unit=data.get("unit") or req.unit,
                      standard_ids=(int(data["instrument_id"]),))
    need = requirement(req)
    return store.deliver_calibration(actor, order_id, cal, required_uncertainty=need.required_uncertainty
                                     * conversion_factor(req.unit, cal.unit))


def order_values(store: Store, actor: Actor, order_id: int) -> list[dict]:
    """The delivered values of a measurement order (see the store for who may read them)."""
    table = store.order_values(actor, order_id)
    if table is None:
        return []
    cols = ("serial", "value", "unit", "measured_at", "instrument_id", "characteristic_id", "characteristic",
            "part_number", "batch", "position")
    return [{c: r[c] for c in cols} for r in table.select(list(cols)).to_pylist()]
