"""Lab supervision in the demo region (issue 9 items 4 and 8).

After the base region is built: the pending application LAB10 is qualified by the regulator and
a new lab (LAB11) applies (one application left to review); a length proficiency round
(PT-2026-L01, a 100 mm gauge block, E_n) is answered by the labs with length in their scope and
closed: LAB05 is unsatisfactory (E_n about 1.8) and LAB04 claims an uncertainty below its own CMC;
the regulator raises a major finding on LAB05 (open) and suspends it with the reason; a minor
finding on LAB02 is answered and closed; a mass round (PT-2026-M01) is open for the labs to answer
(the demo account lab01 has not answered yet, and has an open minor finding to answer).

Everything goes through the store's supervision methods (events, audit chain, notifications).
The content is fixed (no random numbers); only the timestamps are those of the build.
"""

from __future__ import annotations

import datetime as dt

from jingce.errors import NotFoundError
from jingce.model import Lab, Role, ScopeEntry, Tenant, User
from jingce.model.supervision import AuditFinding, LabDecision, PtRound
from jingce.store import Actor, Store

LENGTH_ROUND = "PT-2026-L01"
MASS_ROUND = "PT-2026-M01"
X_PT = 100.00012  # mm, assigned value of the gauge block (reference lab: the national institute)
U_PT = 0.00008  # mm, U(x_pt), k = 2
# deviations from x_pt (mm) reported by each participant; U = 1.5 x its CMC at 100 mm, except LAB04
# (0.6 x CMC: flagged uncertainty_below_cmc) -> LAB05: E_n = 0.00062 / sqrt((1.5 CMC)^2 + U_PT^2) > 1
OFFSETS = {"LAB01": 0.00005, "LAB02": -0.00008, "LAB04": 0.00004, "LAB05": 0.00062, "LAB07": -0.00015,
           "LAB08": 0.00010, "LAB10": -0.00003}
BELOW_CMC = "LAB04"


def _actor(store: Store, username: str, fallback: Actor) -> Actor:
    try:
        return store.actor(username)
    except NotFoundError:
        return fallback


def _cmc(lab: Lab, quantity: str, x: float) -> float | None:
    lines = [s for s in lab.scope if s.quantity == quantity and s.range_min <= x <= s.range_max]
    return min(s.cmc_at(x) for s in lines) if lines else None


def extend(store: Store, admin: Actor, builder=None) -> dict:
    """Add the supervision story to a built demo region; returns what it made (codes and ids)."""
    from jingce.services import supervision as sv
    from jingce.services.demo.build import REGULATOR

    reg = _actor(store, REGULATOR, admin)
    if reg.role is not Role.REGULATOR:
        raise NotFoundError("the demo region has no regulator account", field="username")
    if any(r.code == LENGTH_ROUND for r in store.list_rounds(reg)):
        return {"created": False}
    labs = {lab.code: lab for lab in store.list_labs(admin)}
    now = dt.datetime.now(dt.UTC)
    out: dict = {"created": True}

    # applications: LAB10 (applied in the base region) is qualified, LAB11 applies and waits
    if "LAB10" in labs and labs["LAB10"].qualification.value == "applied":
        labs["LAB10"] = store.decide_lab(reg, labs["LAB10"].id, LabDecision(
            action="qualify", reason="文件审查与现场评审通过 / document review and on-site assessment passed"))
    tenant = store.add_tenant(admin, Tenant(code="LAB11", name="天鹅计量检测有限公司（示例）", kind="lab"))
    store.add_user(admin, User(tenant_id=tenant.id, username="lab11", role=Role.LAB,
                               display_name="天鹅计量检测有限公司（示例）"))
    applicant = store.apply_lab(store.actor("lab11"), Lab(
        tenant_id=tenant.id, code="LAB11", name="天鹅计量检测有限公司（示例） / Tiane calibration services (demo)",
        level="lab", accreditation_no="CNAS L1011 (pending)", scope=(
            ScopeEntry(quantity="length", range_min=0, range_max=500, unit="mm", cmc_absolute=0.00015,
                       cmc_relative=1e-6, method="JJG 146 gauge blocks", price=160),
            ScopeEntry(quantity="mass", range_min=0, range_max=1000, unit="g", cmc_absolute=0.0008,
                       method="JJG 99 weights", price=90))))
    out["pending_application"] = applicant.id

    # the length round, answered and closed
    rnd = store.add_round(reg, PtRound(
        code=LENGTH_ROUND, title="量块 100 mm 长度比对 / gauge block 100 mm length comparison", quantity="length",
        unit="mm", artefact="钢质量块 100 mm，编号 GB-100-07 / steel gauge block 100 mm, no. GB-100-07",
        assigned_value=X_PT, assigned_uncertainty=U_PT, score_kind="en", opened_at=now,
        deadline=now + dt.timedelta(days=30)))
    for code, offset in OFFSETS.items():
        lab = labs.get(code)
        cmc = None if lab is None else _cmc(lab, "length", X_PT)
        if cmc is None or lab.qualification.value not in ("qualified", "suspended"):
            continue
        u = round((0.6 if code == BELOW_CMC else 1.5) * cmc, 9)
        store.submit_result(_actor(store, code.lower(), admin), rnd.id, lab.id, round(X_PT + offset, 8), u, 2.0)
    closed, results = sv.close_round(store, reg, rnd.id)
    out["length_round"] = closed.id
    out["evaluations"] = {r.lab_id: (r.evaluation.value if r.evaluation else None, [f.value for f in r.flags])
                          for r in results}

    # findings: LAB05 major (open) and suspended; LAB02 minor answered and closed; LAB01 minor open
    if "LAB05" in labs:
        major = store.raise_finding(reg, AuditFinding(
            lab_id=labs["LAB05"].id, raised_at=now, severity="major", clause="ISO/IEC 17025:2017 7.7.2",
            description="能力验证 PT-2026-L01 结果不满意，未分析原因 / unsatisfactory result in PT-2026-L01, "
                        "no root-cause analysis", due=now + dt.timedelta(days=60)))
        out["open_major_finding"] = major.id
        store.decide_lab(reg, labs["LAB05"].id, LabDecision(
            action="suspend", reason="能力验证 PT-2026-L01 不满意（En > 1）且严重审核发现未关闭 / unsatisfactory "
                                     "En in PT-2026-L01 and an open major finding"))
    if "LAB02" in labs:
        minor = store.raise_finding(reg, AuditFinding(
            lab_id=labs["LAB02"].id, raised_at=now, severity="minor", clause="ISO/IEC 17025:2017 6.4.13",
            description="两台标准器的期间核查记录缺失 / intermediate-check records missing for two standards",
            due=now + dt.timedelta(days=30)))
        store.answer_finding(_actor(store, "lab02", admin), minor.id,
                             "补做期间核查并修订程序 QP-6.4 / checks done, procedure QP-6.4 revised")
        store.review_finding(reg, minor.id, close=True, note="记录已核实 / records verified")
        out["closed_finding"] = minor.id
    if "LAB01" in labs:
        store.raise_finding(reg, AuditFinding(
            lab_id=labs["LAB01"].id, raised_at=now, severity="minor", clause="ISO/IEC 17025:2017 7.6.1",
            description="扭矩校准不确定度评定未计入温度影响 / torque budget omits the temperature effect",
            due=now + dt.timedelta(days=45)))

    # the mass round, open: two labs answered, lab01 has not yet
    mass = store.add_round(reg, PtRound(
        code=MASS_ROUND, title="500 g 砝码质量比对 / 500 g weight comparison", quantity="mass", unit="g",
        artefact="E2 级 500 g 砝码 / class E2 500 g weight", assigned_value=500.00031, assigned_uncertainty=0.00025,
        score_kind="en", opened_at=now, deadline=now + dt.timedelta(days=45)))
    for code, value in (("LAB02", 500.00036), ("LAB04", 500.00020)):
        lab = labs.get(code)
        cmc = None if lab is None else _cmc(lab, "mass", 500.0)
        if cmc is not None and lab.qualification.value in ("qualified", "suspended"):
            store.submit_result(_actor(store, code.lower(), admin), mass.id, lab.id, value, round(2 * cmc, 9), 2.0)
    out["open_round"] = mass.id
    return out
