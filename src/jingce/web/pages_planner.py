"""The precision planner: where measurement is inadequate for the tolerance, and the cheapest adequate option."""

from __future__ import annotations

import math

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jingce.services import planner
from jingce.web import i18n
from jingce.web.pages import _store, render
from jingce.web.session import require

router = APIRouter(include_in_schema=False)

i18n.register({
    "planner.title": ("精度规划", "Precision planner"),
    "planner.intro": ("逐个特性比较可用测量能力（自有仪器、量具研究、实验室CMC）与公差：TUR < 4、%GRR > 30 %、Q_MP 超限即为不足，并给出误接收风险与最经济的可行方案",
                      "For every characteristic, the measurement capability available (own instruments, gage studies, "
                      "labs' CMCs) against the tolerance: TUR < 4, %GRR > 30 % or Q_MP above its limit is inadequate; "
                      "the false-accept risk it causes and the cheapest adequate option"),
    "planner.enterprise": ("企业", "Enterprise"),
    "planner.show": ("显示", "Show"),
    "planner.characteristic": ("特性", "Characteristic"),
    "planner.tolerance": ("公差 T", "Tolerance T"),
    "planner.instrument": ("在用仪器", "Instrument in use"),
    "planner.u": ("标准不确定度 u", "Standard uncertainty u"),
    "planner.tur": ("TUR", "TUR"),
    "planner.grr": ("%GRR", "%GRR"),
    "planner.q_mp": ("Q_MP", "Q_MP"),
    "planner.risk": ("误接收风险", "False-accept risk"),
    "planner.producer_risk": ("误拒收风险", "False-reject risk"),
    "planner.option": ("最经济的可行方案", "Cheapest adequate option"),
    "planner.cost": ("费用", "Cost"),
    "planner.process": ("过程分布", "Process distribution"),
    "planner.scatter": ("TUR 与误接收风险（每点一个特性）", "TUR vs false-accept risk (one point per characteristic)"),
    "planner.scatter_note": ("横轴为对数坐标；红线为 TUR = 4", "Log scale; the red line is TUR = 4"),
    "planner.count.inadequate": ("不足 {n}", "inadequate {n}"),
    "planner.count.adequate": ("满足 {n}", "adequate {n}"),
    "planner.count.unknown": ("未知 {n}", "unknown {n}"),
    "planner.count.tur": ("TUR < 4：{n}", "TUR < 4: {n}"),
    "planner.count.grr": ("%GRR > 30 %：{n}", "%GRR > 30 %: {n}"),
    "planner.count.q_mp": ("Q_MP 超限：{n}", "Q_MP over limit: {n}"),
    "planner.status.adequate": ("满足", "adequate"),
    "planner.status.inadequate": ("不足", "inadequate"),
    "planner.status.unknown": ("未知", "unknown"),
    "planner.flag.tur": ("TUR < 4", "TUR < 4"),
    "planner.flag.grr": ("%GRR > 30 %", "%GRR > 30 %"),
    "planner.flag.q_mp": ("Q_MP 超限", "Q_MP over limit"),
    "planner.source.summaries": ("来自质量汇总", "from the quality summaries"),
    "planner.source.lake": ("来自测量数据", "from the measured values"),
    "planner.source.none": ("无测量数据", "no measured values"),
    "planner.no_enterprise": ("没有可规划的企业", "No enterprise to plan"),
    "planner.method": ("TUR = T / (2U)，U = 2u（ANSI/NCSL Z540.3，ILAC-G8）；风险为 JCGM 106 9.5 全局消费方风险（简单接受）；仪器 u 取其声明值，否则取校准证书 U/k 与分辨力/√12 合成（GUM 4.3.7）",
                       "TUR = T / (2U), U = 2u (ANSI/NCSL Z540.3, ILAC-G8); the risk is the JCGM 106 9.5 global "
                       "consumer's risk under simple acceptance; an instrument's u is its stated value, else the "
                       "certificate's U/k combined with resolution/sqrt(12) (GUM 4.3.7)"),
})


def _f(x):
    return x if isinstance(x, (int, float)) and x is not None and math.isfinite(x) else None


@router.get("/planner")
def planner_page(request: Request, enterprise_id: int | None = Query(None, ge=1, le=2_147_483_647)) -> Response:
    actor = require(request, "planner")
    store = _store(request)
    ents = [e for e in store.list_enterprises(actor) if actor.is_admin or e.tenant_id == actor.tenant_id]
    ent = next((e for e in ents if e.id == enterprise_id), ents[0] if ents else None)
    plan = planner.plan_precision(store, actor, ent.id) if ent else None
    points = [] if plan is None else [
        {"key": r.key, "tur": _f(r.tur), "risk": _f(r.risk), "status": r.status, "id": r.characteristic_id}
        for r in plan.rows if _f(r.tur) is not None and _f(r.risk) is not None]
    return render(request, "planner.html", actor=actor, active="planner", enterprises=ents, ent=ent, plan=plan,
                  summary=plan.summary() if plan else None, points=points, js_text=("planner.",))
