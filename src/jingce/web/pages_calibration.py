"""Calibration pages: the instrument list and one instrument's history and traceability graph;
calibration management (due, overdue, recall) and out-of-tolerance impact reports."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pyarrow.compute as pc
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingce.errors import InvalidInputError
from jingce.model import Role
from jingce.services import calibration as calmgmt
from jingce.services.certificates import import_dcc
from jingce.services.impact import PFA_DOUBTFUL, impact_report
from jingce.services.traceability import instrument_trace, measurement_trace
from jingce.web import i18n
from jingce.web.pages import PAGE_SIZE, _store, render
from jingce.web.session import check_csrf, require, session_csrf

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
    trace = instrument_trace(store, actor, instrument_id)
    nodes = {n.instrument_id: n for n in trace.chain.nodes}
    reports = {}
    for r in store.impact_reports(actor):
        reports.setdefault(r[1], r[0])
    return render(request, "instrument.html", actor=actor, active="instruments", inst=inst, cals=cals, labs=labs,
                  holder=holder or "—", now=dt.datetime.now(dt.UTC), js_text=("inst.",), trace=trace, nodes=nodes,
                  reports=reports, may_assess=_may_assess(actor))




# -- traceability, calibration management, out-of-tolerance impact (issue 9) --------------------

i18n.register({
    "cal.title": ("校准管理", "Calibration management"),
    "cal.intro": ("到期与超期器具、未来 {n} 天按周的召回计划，以及按器具族校准历史推荐的校准周期（NCSLI RP-1 A3 区间检验）。",
                  "Due and overdue instruments, the recall schedule by week over the next {n} days, and the "
                  "calibration interval each instrument family's history recommends (NCSLI RP-1 Method A3)."),
    "cal.recall": ("召回计划（按周）", "Recall schedule (by week)"),
    "cal.due_list": ("需校准的器具", "Instruments to calibrate"),
    "cal.intervals": ("推荐校准周期（按器具族）", "Recommended intervals by family"),
    "cal.intervals_intro": ("器具族 = 类别/量/单位；每次复校按收到时是否合格计为周期末在/超差；目标可靠度 {r}。",
                            "Family = kind/quantity/unit; each recalibration counts as in or out of tolerance at the "
                            "end of its interval, as received; reliability target {r}."),
    "cal.family": ("器具族", "Family"),
    "cal.n_instruments": ("器具数", "Instruments"),
    "cal.n_obs": ("复校次数", "Recalibrations"),
    "cal.in_tol": ("合格", "In tolerance"),
    "cal.reliability": ("观测可靠度", "Observed reliability"),
    "cal.current": ("现行周期 (天)", "Current interval (days)"),
    "cal.recommended": ("推荐周期 (天)", "Recommended (days)"),
    "cal.confidence": ("拒绝置信度", "Rejection confidence"),
    "cal.changed": ("应调整", "change"),
    "cal.kept": ("保持", "keep"),
    "cal.due": ("到期日", "Due"),
    "cal.days_left": ("剩余天数", "Days left"),
    "cal.last": ("最近校准", "Last calibrated"),
    "cal.status.overdue": ("已超期", "overdue"),
    "cal.status.due": ("即将到期", "due"),
    "cal.status.ok": ("有效", "valid"),
    "cal.status.never": ("从未校准", "never calibrated"),
    "cal.status.out_of_tolerance": ("超差停用", "out of tolerance"),
    "cal.count.overdue": ("已超期 {n}", "{n} overdue"),
    "cal.count.due": ("即将到期 {n}", "{n} due"),
    "cal.count.out_of_tolerance": ("超差 {n}", "{n} out of tolerance"),
    "cal.count.never": ("从未校准 {n}", "{n} never calibrated"),
    "cal.dcc": ("数字校准证书 (DCC)", "Digital calibration certificates (DCC)"),
    "cal.dcc_intro": ("导入 PTB DCC 3.1.2 证书即记录其校准（仅发证实验室）；每条校准可导出为 DCC。",
                      "Importing a PTB DCC 3.1.2 certificate records its calibrations (the issuing lab only); "
                      "every calibration can be exported as a DCC from the instrument page."),
    "cal.dcc_import": ("导入证书", "Import certificate"),
    "cal.dcc_export": ("DCC", "DCC"),
    "cal.dcc_done": ("已导入证书 {no}（新增校准 {n} 条）", "Certificate {no} imported ({n} new calibrations)"),
    "cal.impact_reports": ("超差影响报告", "Out-of-tolerance impact reports"),
    "cal.uncertainty_chain": ("溯源链上的不确定度", "Uncertainty along the chain"),
    "cal.uncertainty_intro": ("每一环 u = U/k（换算到 {unit}）；从国家基准向下逐级按方和根累积（JCGM 100 5.1.2，假设各环不相关；"
                              "若证书的 U 已包含上级标准的贡献，则累积值为上限）。",
                              "Each link contributes u = U/k (in {unit}); accumulated as the root sum of squares from the "
                              "national standard down (JCGM 100 5.1.2, links assumed uncorrelated; if a certificate's U "
                              "already includes its standard's contribution, the sum is an upper bound)."),
    "cal.link": ("环节", "Link"),
    "cal.u_link": ("本环 u", "u of the link"),
    "cal.u_cum": ("累积 u", "Accumulated u"),
    "cal.reason": ("中断原因", "Why it breaks"),
    "cal.u_chain": ("溯源链合成标准不确定度", "Combined standard uncertainty of the chain"),
    "cal.unknown": ("未知", "unknown"),
    "cal.assess": ("评估超差影响", "Assess the impact"),
    "cal.trace_title": ("测量值溯源", "Traceability of a measured value"),
    "cal.trace_form": ("按特性与序列号（或批次与位置）查找测量值", "Find a measured value by characteristic and serial (or batch and position)"),
    "cal.characteristic_id": ("特性编号", "Characteristic id"),
    "cal.serial": ("序列号", "Serial"),
    "cal.at": ("测量时间 (UTC，可选)", "Measured at (UTC, optional)"),
    "cal.find": ("溯源", "Trace"),
    "cal.value": ("测量值", "Value"),
    "cal.limits": ("规格限", "Limits"),
    "cal.measured_at": ("测量时间", "Measured at"),
    "cal.instrument": ("测量器具", "Instrument"),
    "cal.no_instrument": ("该测量值未记录测量器具，无法溯源", "The value names no instrument: it cannot be traced"),
    "cal.impact.title": ("超差影响报告", "Out-of-tolerance impact report"),
    "cal.impact.intro": ("标准或器具在校准时被发现超差：自其上次校准以来用它校准的全部器具（逐级向下）、用这些器具在可疑时段内测得的全部测量值、"
                         "涉及的零件与上级装配件及企业；每个原判合格的结论按校准前误差重新评估误判接受概率。",
                         "A standard or instrument found out of tolerance at calibration: every instrument calibrated "
                         "with it since its last calibration (down the graph), every value measured with them in their "
                         "suspect periods, the parts, the assemblies above them and the enterprises; each accepted "
                         "decision re-evaluated for its probability of false accept with the as-found error."),
    "cal.impact.model": ("模型", "Model"),
    "cal.impact.found": ("校准前误差", "Error as found"),
    "cal.impact.window": ("可疑时段", "Suspect period"),
    "cal.impact.enterprise": ("企业", "Enterprise"),
    "cal.impact.measurements": ("测量值", "Values"),
    "cal.impact.parts": ("零件", "Parts"),
    "cal.impact.assemblies": ("装配件", "Assemblies"),
    "cal.impact.accepted": ("原判合格", "Accepted"),
    "cal.impact.doubtful": ("存疑 (PFA > {p})", "Doubtful (PFA > {p})"),
    "cal.impact.max_pfa": ("最大 PFA", "Max PFA"),
    "cal.impact.instruments": ("受影响器具", "Instruments affected"),
    "cal.impact.depth": ("层级", "Depth"),
    "cal.impact.top": ("误判接受概率最高的测量值", "Values with the highest probability of false accept"),
    "cal.impact.none": ("没有报告", "No report"),
    "cal.impact.totals": ("合计", "Totals"),
    "cal.impact.created": ("生成", "Created"),
    "cal.impact.assembly_list": ("包含受影响零件的装配件", "Assemblies containing affected parts"),
    "cal.impact.contains": ("包含零件", "Contains part"),
    "cal.impact.level": ("层", "Level"),
})


def _may_assess(actor) -> bool:
    return actor.role in (Role.LAB, Role.REGULATOR, Role.ADMIN)


@router.get("/calibration")
def calibration_page(request: Request, horizon: int = Query(90, ge=7, le=3660),
                     target: float = Query(0.9, gt=0.5, lt=1), msg: str | None = Query(None, max_length=256)
                     ) -> Response:
    actor = require(request, "calibration")
    store = _store(request)
    plan = calmgmt.calibration_plan(store, actor, horizon_days=horizon, target_reliability=target)
    shown = [i for i in plan.items if i.status != "ok"]
    recall = [{"week": w.week_start.isoformat(), "count": w.count, "instruments": list(w.instruments[:20])}
              for w in plan.recall]
    reports = store.impact_reports(actor)[:20]
    return render(request, "calibration.html", actor=actor, active="calibration", plan=plan, shown=shown,
                  recall=recall, reports=reports, horizon=horizon, target=target, msg=msg,
                  counts={s: plan.count(s) for s in calmgmt.STATUSES}, may_import=actor.role in (Role.LAB, Role.ADMIN),
                  js_text=("cal.",))


@router.post("/calibration/dcc")
async def calibration_dcc_import(request: Request, file: UploadFile = File(...),
                                 csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "calibration")
    check_csrf(session_csrf(request), csrf)
    data = await file.read(8 * 1024 * 1024 + 1)
    if len(data) > 8 * 1024 * 1024:
        raise InvalidInputError("a certificate may be at most 8 MiB", field="file")
    res = import_dcc(_store(request), actor, data, file.filename or "<dcc>")
    msg = f"{res.certificate_no}: {len(res.calibration_ids)}"
    return RedirectResponse(f"/calibration?{urlencode({'msg': msg})}", status_code=303)


@router.get("/trace")
def trace_page(request: Request, characteristic_id: int | None = Query(None, ge=1, le=2_147_483_647),
               serial: str | None = Query(None, max_length=128), at: str | None = Query(None, max_length=40),
               batch: str | None = Query(None, max_length=64), position: int | None = Query(None, ge=0)) -> Response:
    actor = require(request, "instruments")
    store = _store(request)
    mt = None
    if (characteristic_id and serial) or (batch and position is not None):
        when = None
        if at:
            try:
                when = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidInputError("must be an ISO 8601 time", field="at") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
        mt = measurement_trace(store, actor, characteristic_id=characteristic_id, serial=serial, at=when,
                               batch=batch, position=position)
    nodes = {} if mt is None or mt.trace is None else {n.instrument_id: n for n in mt.trace.chain.nodes}
    return render(request, "instrument_trace.html", actor=actor, active="instruments", mt=mt, nodes=nodes,
                  q={"characteristic_id": characteristic_id or "", "serial": serial or "", "at": at or "",
                     "batch": batch or "", "position": "" if position is None else position})


@router.post("/calibrations/{calibration_id}/impact")
def impact_run(request: Request, calibration_id: int, csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "calibration")
    check_csrf(session_csrf(request), csrf)
    rep = impact_report(_store(request), actor, None, calibration_id)
    return RedirectResponse(f"/impact/{rep.id}", status_code=303)


@router.get("/impact")
def impact_list(request: Request) -> Response:
    return RedirectResponse("/calibration#impact", status_code=303)


@router.get("/impact/{report_id}")
def impact_page(request: Request, report_id: int) -> Response:
    actor = require(request, "calibration")
    store = _store(request)
    rid, cal_id, created, by, summary = store.get_impact_report(actor, report_id)
    rows = store.impact_details(actor, report_id)
    rows = rows.filter(rows.column("accepted"))
    key = pc.if_else(pc.is_nan(rows.column("pfa")), -1.0, rows.column("pfa"))
    top = rows.append_column("_k", key).sort_by([("_k", "descending")]).slice(0, 50).to_pylist()
    assemblies = store.impact_details(actor, report_id, "assemblies").slice(0, 200).to_pylist()
    ents = {e.id: e for e in store.list_enterprises(actor)}
    chars = {c.id: c for c in store.list_characteristics(actor)}
    return render(request, "impact_report.html", actor=actor, active="calibration", rid=rid, cal_id=cal_id,
                  created=created, by=by, s=summary, top=top, assemblies=assemblies, ents=ents, chars=chars,
                  threshold=PFA_DOUBTFUL)
