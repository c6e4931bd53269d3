"""Root cause: the upstream characteristics and machines behind a characteristic's variation."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jingce.web import i18n
from jingce.web.pages import render
from jingce.web.session import require

router = APIRouter(include_in_schema=False)

i18n.register({
    "quality.title": ("质量根因分析", "Quality root cause"),
    "quality.intro": ("从不合格的产品特性出发，沿物料清单按序列号追溯上游零部件特性与机床，按其对波动的贡献排序",
                      "From a non-conforming product characteristic down the bill of materials: upstream component "
                      "characteristics (matched by serial) and machines, ranked by their share of its variation"),
    "quality.worst": ("不合格特性", "Non-conforming characteristics"),
    "quality.choose": ("选择一个特性查看根因", "Choose a characteristic to see its root cause"),
    "quality.characteristic": ("特性", "Characteristic"),
    "quality.enterprise": ("企业", "Enterprise"),
    "quality.out_of_spec": ("超差数", "Out of spec"),
    "quality.analyse": ("根因", "Root cause"),
    "quality.ranking": ("贡献排序（R² 的 LMG 分解；机床为 eta²）", "Ranking (LMG shares of R²; machines: eta²)"),
    "quality.candidates": ("候选来源与证据", "Candidates and evidence"),
    "quality.scatter": ("与首要来源的散点图", "Scatter against the top candidate"),
    "quality.binned": ("分箱计数（少于 3 个序列号的格不显示；不提供原始值）",
                       "Binned counts (cells under 3 serials blanked; no raw values)"),
    "quality.model": ("联合模型", "Joint model"),
    "quality.source": ("来源", "Source"),
    "quality.product": ("零件号", "Part number"),
    "quality.depth": ("层级", "Level"),
    "quality.matched": ("匹配序列号", "Matched serials"),
    "quality.share": ("贡献", "Share"),
    "quality.coef": ("系数 ± 标准误", "Coefficient ± SE"),
    "quality.p": ("p 值", "p value"),
    "quality.r2_alone": ("单独 R²", "R² alone"),
    "quality.machine": ("机床", "Machines"),
    "quality.serials": ("序列号", "Serials"),
    "quality.r2": ("R²", "R²"),
    "quality.none": ("没有可分析的上游数据", "No upstream data to analyse"),
    "quality.notes": ("说明", "Notes"),
    "quality.link": ("根因分析", "root cause"),
    "quality.nonconforming": ("不合格特性（可追溯根因）", "Non-conforming characteristics (to their root cause)"),
    "quality.traceability": ("溯源覆盖率", "Traceability coverage"),
    "quality.proficiency": ("实验室监管与能力验证", "Lab supervision and proficiency testing"),
    "quality.nonconforming_count": ("不合格特性数", "Non-conforming characteristics"),
    "quality.labs": ("实验室", "Labs"),
    "quality.pending": ("待审批申请", "Pending applications"),
    "quality.results": ("能力验证结果", "Proficiency results"),
    "quality.flagged": ("被标记结果", "Flagged results"),
    "quality.findings": ("未关闭审核发现", "Open audit findings"),
    "quality.period": ("期间", "Period"),
    "quality.rates": ("失控率、校准合规率与溯源覆盖率", "Out-of-control rate, calibration compliance and traceability "
                                                      "coverage"),
})


@router.get("/quality")
def quality_page(request: Request, characteristic: int | None = Query(None, ge=1, le=2_147_483_647)) -> Response:
    """The non-conforming characteristics the user may analyse, and the root cause of the chosen one."""
    actor = require(request, "quality")
    return render(request, "quality.html", actor=actor, active="quality", characteristic=characteristic,
                  js_text=("quality.", "region."))
