"""Lab pages: the public lab directory and one lab's scope; the regulator's supervision
(qualification, proficiency testing, audit findings) and a lab's side of it."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from jingce.errors import InvalidInputError, NotFoundError
from jingce.model import Lab, LabLevel, Role, ScopeEntry
from jingce.model.supervision import AuditFinding, LabDecision, PtRound
from jingce.services import supervision as sv
from jingce.web import i18n
from jingce.web.pages import _store, render
from jingce.web.session import check_csrf, require, session_csrf

router = APIRouter(include_in_schema=False)

i18n.register({
    "sup.title": ("实验室监管", "Lab supervision"),
    "sup.intro_regulator": ("资质审批、能力验证与监督审核", "Qualification, proficiency testing and surveillance audits"),
    "sup.intro_lab": ("本实验室的资质状态、能力验证与审核发现", "Your qualification, proficiency rounds and audit findings"),
    "sup.indicators": ("监管指标", "Indicators"),
    "sup.pending": ("待审批的资质申请", "Applications to review"),
    "sup.labs_by_state": ("实验室（按资质状态）", "Labs by state"),
    "sup.rounds": ("能力验证计划", "Proficiency-testing rounds"),
    "sup.findings": ("审核发现", "Audit findings"),
    "sup.history": ("资质记录", "Qualification history"),
    "sup.my_labs": ("本单位实验室", "Your labs"),
    "sup.apply": ("申请资质认定", "Apply for qualification"),
    "sup.apply_hint": ("每行一条能力范围：量，下限，上限，单位，CMC 绝对值，CMC 相对值，价格（元/件）",
                       "One scope line per row: quantity, min, max, unit, CMC absolute, CMC relative, price (CNY per item)"),
    "sup.reason": ("理由", "Reason"),
    "sup.note": ("说明", "Note"),
    "sup.action": ("操作", "Action"),
    "sup.action.apply": ("申请", "apply"),
    "sup.action.qualify": ("认定", "qualify"),
    "sup.action.reject": ("驳回", "reject"),
    "sup.action.suspend": ("暂停", "suspend"),
    "sup.action.reinstate": ("恢复", "reinstate"),
    "sup.action.revoke": ("撤销", "revoke"),
    "sup.from_to": ("状态变化", "State"),
    "sup.by": ("操作人", "By"),
    "sup.when": ("时间", "When"),
    "sup.round": ("能力验证", "Round"),
    "sup.artefact": ("样品", "Artefact"),
    "sup.assigned": ("指定值 x_pt", "Assigned value x_pt"),
    "sup.assigned_u": ("U(x_pt)，k=2", "U(x_pt), k=2"),
    "sup.sigma_pt": ("能力评定标准差 σ_pt", "sigma_pt"),
    "sup.score_kind": ("评价统计量", "Score"),
    "sup.deadline": ("截止日期", "Deadline"),
    "sup.status": ("状态", "Status"),
    "sup.status.open": ("进行中", "open"),
    "sup.status.closed": ("已结束", "closed"),
    "sup.status.answered": ("已答复", "answered"),
    "sup.publish": ("发布能力验证", "Publish a round"),
    "sup.close_round": ("结束并评分", "Close and score"),
    "sup.submit": ("提交结果", "Submit result"),
    "sup.resubmit_hint": ("截止前可重新提交，新结果替代旧结果", "Until the deadline a new submission replaces the old one"),
    "sup.value": ("测得值", "Value"),
    "sup.U": ("扩展不确定度 U", "Expanded uncertainty U"),
    "sup.k": ("包含因子 k", "Coverage factor k"),
    "sup.submitted": ("已提交", "Submitted"),
    "sup.hidden": ("结束后公布", "published when closed"),
    "sup.score": ("得分", "Score"),
    "sup.evaluation": ("评价", "Evaluation"),
    "sup.flags": ("标记", "Flags"),
    "sup.eval.satisfactory": ("满意", "satisfactory"),
    "sup.eval.questionable": ("有问题", "questionable"),
    "sup.eval.unsatisfactory": ("不满意", "unsatisfactory"),
    "sup.eval.unscored": ("未评分", "unscored"),
    "sup.flag.uncertainty_below_cmc": ("不确定度小于其 CMC", "uncertainty below CMC"),
    "sup.flag.outside_scope": ("超出认可范围", "outside scope"),
    "sup.participants": ("参加实验室", "Participants"),
    "sup.chart": ("各实验室得分", "Score per lab"),
    "sup.results": ("结果", "Results"),
    "sup.severity": ("等级", "Severity"),
    "sup.sev.major": ("严重", "major"),
    "sup.sev.minor": ("一般", "minor"),
    "sup.sev.observation": ("观察项", "observation"),
    "sup.clause": ("条款", "Clause"),
    "sup.description": ("描述", "Description"),
    "sup.due": ("整改期限", "Due"),
    "sup.raise": ("提出审核发现", "Raise a finding"),
    "sup.corrective": ("整改措施", "Corrective action"),
    "sup.answer": ("答复", "Answer"),
    "sup.close": ("关闭", "Close"),
    "sup.reopen": ("重新打开", "Reopen"),
    "sup.latest_pt": ("最近能力验证", "Latest proficiency"),
    "sup.open_major": ("未关闭严重发现", "Open major findings"),
    "sup.lab": ("实验室", "Lab"),
    "sup.no_history": ("直接登记，无申请记录", "Registered directly, no application on record"),
    "sup.labs_total": ("实验室总数", "Labs"),
    "sup.flagged": ("被标记结果", "Flagged results"),
    "sup.open_findings": ("未关闭发现", "Open findings"),
    "sup.code": ("编号", "Code"),
    "sup.title_field": ("名称", "Title"),
    "sup.quantity": ("量", "Quantity"),
    "sup.not_marked_qualified": ("非有效资质，不可下单", "not qualified: cannot take orders"),
})

DECISIONS = {"applied": ("qualify", "reject"), "qualified": ("suspend", "revoke"), "suspended": ("reinstate", "revoke"),
             "revoked": ()}


def _float(text: str | None, name: str, *, required: bool = True) -> float | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidInputError("is required", field=name)
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a number", field=name) from None


def _end_of_day(text: str | None, name: str, *, required: bool = True) -> dt.datetime | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidInputError("is required", field=name)
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a date (YYYY-MM-DD)", field=name) from None
    return dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)


def _scope_lines(text: str) -> tuple[ScopeEntry, ...]:
    out = []
    for n, line in enumerate((x for x in text.splitlines() if x.strip()), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) < 5:
            raise InvalidInputError("needs quantity, min, max, unit, CMC absolute[, CMC relative, price]",
                                    field="scope", line=n)
        q, lo, hi, unit, cmc = parts[:5]
        rel = parts[5] if len(parts) > 5 else ""
        price = parts[6] if len(parts) > 6 else ""
        out.append(ScopeEntry(quantity=q, range_min=_float(lo, "range_min"), range_max=_float(hi, "range_max"),
                              unit=unit, cmc_absolute=_float(cmc, "cmc_absolute"),
                              cmc_relative=_float(rel, "cmc_relative", required=False) or 0.0,
                              price=_float(price, "price", required=False)))
    if not out:
        raise InvalidInputError("at least one scope line", field="scope")
    return tuple(out)


def _back(url: str = "/supervision") -> Response:
    return RedirectResponse(url, status_code=303)


# -- labs -------------------------------------------------------------------------------------


@router.get("/labs")
def labs_page(request: Request) -> Response:
    actor = require(request, "labs")
    standings = sv.directory(_store(request), actor)
    return render(request, "labs.html", actor=actor, active="labs", standings=standings,
                  labs=[s.lab for s in standings])


@router.get("/labs/{lab_id}")
def lab_page(request: Request, lab_id: int) -> Response:
    actor = require(request, "labs")
    store = _store(request)
    lab = store.get_lab(actor, lab_id)
    held = [i for i in store.list_instruments(actor) if i.lab_id == lab.id]
    standing = next((s for s in store.lab_directory(actor) if s.lab.id == lab.id), None)
    try:
        history = store.lab_events(actor, lab.id)
    except NotFoundError:
        history = None  # others see the state, not the history
    return render(request, "lab.html", actor=actor, active="labs", lab=lab, held=held, standing=standing,
                  history=history)


# -- supervision ------------------------------------------------------------------------------


@router.get("/supervision")
def supervision_page(request: Request) -> Response:
    actor = require(request, "supervision")
    store = _store(request)
    standings = sv.directory(store, actor)
    regulating = actor.role in (Role.REGULATOR, Role.ADMIN)
    mine = [s for s in standings if s.lab.tenant_id == actor.tenant_id] if actor.role is Role.LAB else []
    rounds = store.list_rounds(actor)
    results = {}
    if actor.role is Role.LAB:
        for r in rounds:
            for res in store.round_results(actor, r.id):
                results[(r.id, res.lab_id)] = res
    findings = store.list_findings(actor)
    codes = {s.lab.id: s.lab.code for s in standings}
    context = {
        "regulating": regulating, "can_decide": actor.role is Role.REGULATOR, "standings": standings,
        "pending": [s for s in standings if s.lab.qualification.value == "applied"],
        "by_state": {state: [s for s in standings if s.lab.qualification.value == state]
                     for state in ("qualified", "suspended", "revoked", "applied")},
        "decisions": DECISIONS, "mine": mine,
        "history": {s.lab.id: store.lab_events(actor, s.lab.id) for s in mine},
        "rounds": rounds, "results": results, "findings": findings, "codes": codes,
        "indicators": sv.supervision_indicators(store, actor) if regulating else None,
        "now": dt.datetime.now(dt.UTC), "levels": [lv.value for lv in LabLevel],
    }
    return render(request, "supervision.html", actor=actor, active="supervision", **context)


@router.get("/supervision/rounds/{round_id}")
def round_page(request: Request, round_id: int) -> Response:
    actor = require(request, "supervision")
    view = sv.round_view(_store(request), actor, round_id)
    return render(request, "supervision_round.html", actor=actor, active="supervision", js_text=("sup.",), **view)


@router.post("/supervision/applications")
def apply_form(request: Request, code: str = Form(..., max_length=64), name: str = Form(..., max_length=256),
               level: str = Form("lab", max_length=16), accreditation_no: str = Form("", max_length=64),
               scope: str = Form(..., max_length=20_000), csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    _store(request).apply_lab(actor, Lab(tenant_id=actor.tenant_id, code=code, name=name, level=level,
                                         accreditation_no=accreditation_no.strip() or None,
                                         scope=_scope_lines(scope)))
    return _back()


@router.post("/supervision/labs/{lab_id}/decide")
def decide_form(request: Request, lab_id: int, action: str = Form(..., max_length=16),
                reason: str = Form("", max_length=2000), csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    _store(request).decide_lab(actor, lab_id, LabDecision(action=action, reason=reason.strip() or None))
    return _back()


@router.post("/supervision/rounds")
def publish_form(request: Request, code: str = Form(..., max_length=64), title: str = Form(..., max_length=256),
                 quantity: str = Form("length", max_length=64), unit: str = Form("mm", max_length=32),
                 artefact: str = Form(..., max_length=512), assigned_value: str = Form(..., max_length=64),
                 assigned_uncertainty: str = Form(..., max_length=64), sigma_pt: str = Form("", max_length=64),
                 score_kind: str = Form("en", max_length=8), deadline: str = Form(..., max_length=32),
                 csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    rnd = _store(request).add_round(actor, PtRound(
        code=code, title=title, quantity=quantity, unit=unit, artefact=artefact,
        assigned_value=_float(assigned_value, "assigned_value"),
        assigned_uncertainty=_float(assigned_uncertainty, "assigned_uncertainty"),
        sigma_pt=_float(sigma_pt, "sigma_pt", required=False), score_kind=score_kind,
        opened_at=dt.datetime.now(dt.UTC), deadline=_end_of_day(deadline, "deadline")))
    return _back(f"/supervision/rounds/{rnd.id}")


@router.post("/supervision/rounds/{round_id}/results")
def submit_form(request: Request, round_id: int, lab_id: int = Form(...), value: str = Form(..., max_length=64),
                expanded_uncertainty: str = Form(..., max_length=64), coverage_factor: str = Form("2", max_length=16),
                csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    _store(request).submit_result(actor, round_id, lab_id, _float(value, "value"),
                                  _float(expanded_uncertainty, "expanded_uncertainty"),
                                  _float(coverage_factor, "coverage_factor"))
    return _back()


@router.post("/supervision/rounds/{round_id}/close")
def close_form(request: Request, round_id: int, csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    sv.close_round(_store(request), actor, round_id)
    return _back(f"/supervision/rounds/{round_id}")


@router.post("/supervision/labs/{lab_id}/findings")
def raise_form(request: Request, lab_id: int, severity: str = Form(..., max_length=16),
               clause: str = Form("", max_length=64), description: str = Form(..., max_length=4000),
               due: str = Form("", max_length=32), csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    _store(request).raise_finding(actor, AuditFinding(
        lab_id=lab_id, raised_at=dt.datetime.now(dt.UTC), severity=severity, clause=clause.strip() or None,
        description=description, due=_end_of_day(due, "due", required=False)))
    return _back()


@router.post("/supervision/findings/{finding_id}/answer")
def answer_form(request: Request, finding_id: int, corrective_action: str = Form(..., max_length=4000),
                csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    _store(request).answer_finding(actor, finding_id, corrective_action)
    return _back()


@router.post("/supervision/findings/{finding_id}/review")
def review_form(request: Request, finding_id: int, decision: str = Form(..., max_length=8),
                note: str = Form("", max_length=4000), csrf: str = Form("", max_length=128)) -> Response:
    actor = require(request, "supervision")
    check_csrf(session_csrf(request), csrf)
    if decision not in ("close", "reopen"):
        raise InvalidInputError("must be close or reopen", field="decision")
    _store(request).review_finding(actor, finding_id, close=decision == "close", note=note)
    return _back()
