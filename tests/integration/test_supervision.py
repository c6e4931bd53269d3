"""Lab qualification and supervision on the store (SQLite and, when configured, PostgreSQL):
applications, the regulator's decisions, proficiency-testing rounds scored by the kernel, audit
findings, the directory and the indicators."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from sqlalchemy import select, update

from jingce.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.kernels.proficiency import classify, en_score, z_score, zeta_score
from jingce.model import Lab, ScopeEntry, Tenant, User
from jingce.model.supervision import AuditFinding, LabDecision, PtRound
from jingce.services import supervision as sv
from jingce.store import tables as t

NOW = dt.datetime.now(dt.UTC)


def _pending(region, code="NEWLAB"):
    """A new lab tenant with a LAB user that applies for itself."""
    st, a = region.store, region.admin
    tn = st.add_tenant(a, Tenant(code=f"t-{code.lower()}", name=code, kind="lab"))
    st.add_user(a, User(tenant_id=tn.id, username=code.lower(), role="lab"))
    me = st.actor(code.lower())
    lab = st.apply_lab(me, Lab(tenant_id=tn.id, code=code, name=f"{code} calibration", qualification="qualified",
                               scope=(ScopeEntry(quantity="length", range_min=0, range_max=200_000, unit="um",
                                                 cmc_absolute=0.2, cmc_relative=2e-6, price=180),)))
    return lab, me


def _audit_kinds(st):
    with st._read() as conn:
        return [r.kind for r in conn.execute(select(t.audit_entry).order_by(t.audit_entry.c.seq))]


def test_a_lab_applies_and_only_the_regulator_decides(region):
    st, a = region.store, region.admin
    lab, me = _pending(region)
    assert lab.qualification.value == "applied"  # whatever the application said
    assert st.get_lab(me, lab.id).scope[0].price == 180
    # an application is seen by the lab itself, the regulator and the admin, not by enterprises
    assert lab.id in {x.id for x in st.list_labs(region.reg)}
    assert lab.id not in {x.id for x in st.list_labs(region.c)}
    with pytest.raises(NotFoundError):
        st.get_lab(region.c, lab.id)
    with pytest.raises(NotFoundError):
        st.lab_events(region.lab_user, lab.id)
    for who in (region.c, region.s, region.lab_user, me, a):  # enterprises, another lab, the lab itself, the admin
        with pytest.raises(PermissionDeniedError):
            st.decide_lab(who, lab.id, LabDecision(action="qualify"))
    assert st.get_lab(a, lab.id).qualification.value == "applied"
    q = st.decide_lab(region.reg, lab.id, LabDecision(action="qualify"))
    assert q.qualification.value == "qualified" and st.get_lab(region.c, lab.id).code == "NEWLAB"
    s = st.decide_lab(region.reg, lab.id, LabDecision(action="suspend", reason="PT-1 unsatisfactory"))
    assert s.qualification.value == "suspended"
    assert st.decide_lab(region.reg, lab.id, LabDecision(action="reinstate")).qualification.value == "qualified"
    assert st.decide_lab(region.reg, lab.id, LabDecision(action="revoke", reason="fraud")).qualification.value == "revoked"
    events = st.lab_events(me, lab.id)
    assert [(e.action, e.from_state and e.from_state.value, e.to_state.value) for e in events] == [
        ("apply", None, "applied"), ("qualify", "applied", "qualified"), ("suspend", "qualified", "suspended"),
        ("reinstate", "suspended", "qualified"), ("revoke", "qualified", "revoked")]
    assert events[2].reason == "PT-1 unsatisfactory" and events[1].actor == "reg"
    assert _audit_kinds(st).count("lab_decision") == 4 and _audit_kinds(st).count("lab_application") == 1
    assert st.verify_audit().ok
    told = st.notifications(me, kind="qualification")
    assert len(told) == 5 and any("suspend" in n.subject and "暂停" in n.subject for n in told)
    assert len(st.notifications(region.reg, kind="qualification")) == 1  # the application to review


@pytest.mark.parametrize(("start", "action", "message"), [
    ("revoked", "qualify", "cannot qualify a lab that is revoked"),
    ("qualified", "qualify", "cannot qualify a lab that is qualified"),
    ("applied", "suspend", "cannot suspend a lab that is applied"),
    ("qualified", "reinstate", "cannot reinstate a lab that is qualified"),
    ("revoked", "reinstate", "cannot reinstate a lab that is revoked"),
])
def test_illegal_moves_name_the_state_and_change_nothing(region, start, action, message):
    st = region.store
    lab, _ = _pending(region)
    path = {"applied": [], "qualified": ["qualify"], "revoked": ["reject"]}[start]
    for step in path:
        st.decide_lab(region.reg, lab.id, LabDecision(action=step, reason="r"))
    before = (len(_audit_kinds(st)), len(st.lab_events(region.reg, lab.id)))
    with pytest.raises(ConflictError, match=message) as e:
        st.decide_lab(region.reg, lab.id, LabDecision(action=action, reason="r"))
    assert e.value.details["state"] == start
    assert st.get_lab(region.reg, lab.id).qualification.value == start
    assert (len(_audit_kinds(st)), len(st.lab_events(region.reg, lab.id))) == before


def test_reject_ends_in_revoked_and_a_reason_is_required(region):
    st = region.store
    lab, _ = _pending(region)
    with pytest.raises(InvalidInputError) as e:
        LabDecision(action="reject")
    assert e.value.details["field"] == "reason"
    out = st.decide_lab(region.reg, lab.id, LabDecision(action="reject", reason="scope not supported by evidence"))
    assert out.qualification.value == "revoked"
    assert st.lab_events(region.reg, lab.id)[-1].action == "reject"


def test_application_rules(region):
    st = region.store
    with pytest.raises(PermissionDeniedError):
        st.apply_lab(region.c, Lab(tenant_id=region.tenants["C"].id, code="CL", name="c lab"))
    with pytest.raises(NotFoundError):  # a lab user applies for its own tenant only
        st.apply_lab(region.lab_user, Lab(tenant_id=region.tenants["N"].id, code="NL", name="n lab"))
    with pytest.raises(InvalidInputError):  # the regulator registers applications of lab tenants only
        st.apply_lab(region.reg, Lab(tenant_id=region.tenants["C"].id, code="CL", name="c lab"))
    with pytest.raises(ConflictError):
        st.apply_lab(region.lab_user, Lab(tenant_id=region.tenants["L"].id, code="LAB", name="again"))
    with pytest.raises(InvalidInputError) as e:  # an inverted range is refused with the reason
        ScopeEntry(quantity="length", range_min=10, range_max=1, cmc_absolute=0.001)
    assert e.value.details["field"] == "range_min"
    ok = st.apply_lab(region.reg, Lab(tenant_id=region.tenants["L"].id, code="LAB-B", name="second site"))
    assert ok.qualification.value == "applied"


def _round(st, reg, **kw):
    fields = {"code": "PT-2026-01", "title": "gauge block 100 mm", "quantity": "length", "unit": "mm",
              "artefact": "steel gauge block, nominal 100 mm", "assigned_value": 100.00020,
              "assigned_uncertainty": 0.00010, "score_kind": "en", "opened_at": NOW,
              "deadline": NOW + dt.timedelta(days=30)} | kw
    return st.add_round(reg, PtRound(**fields))


def test_a_round_scored_by_hand(region):
    """Hand-worked E_n round (ISO 13528:2022 9.7: E_n = (x - x_pt) / sqrt(U(x)^2 + U(x_pt)^2)),
    x_pt = 100.00020 mm, U(x_pt) = 0.00010 mm (k = 2):

    - LAB:    x = 100.00050, U = 0.00060 (k 2): E_n = 0.00030 / sqrt(3.6e-7 + 1e-8) = 0.00030 / 6.08276e-4
              = 0.493197 -> satisfactory; CMC at 100 mm = 0.0005 mm <= U: no flag;
    - NEWLAB: x = 100.00090, U = 0.00030 (k 2): E_n = 0.00070 / sqrt(9e-8 + 1e-8) = 0.00070 / 3.16228e-4
              = 2.213594 -> unsatisfactory; CMC (in um) 0.2 + 2e-6 * 100000 = 0.4 um = 0.0004 mm > U:
              uncertainty_below_cmc;
    - NMI:    x = 100.00018, U = 0.00004 (k 2): E_n = -0.00002 / sqrt(1.6e-9 + 1e-8) = -0.00002 / 1.07703e-4
              = -0.185695 -> satisfactory; no scope line at all: outside_scope.
    """
    st, a = region.store, region.admin
    new, me = _pending(region)
    st.decide_lab(region.reg, new.id, LabDecision(action="qualify"))
    rnd = _round(st, region.reg)
    for who in (region.c, region.lab_user, a):
        with pytest.raises(PermissionDeniedError):
            _round(st, who, code="PT-X")
    # before closing, labs see the round without its assigned value; enterprises do not see it
    assert st.get_round(me, rnd.id).assigned_value is None
    assert st.get_round(region.reg, rnd.id).assigned_value == 100.00020
    with pytest.raises(NotFoundError):
        st.get_round(region.c, rnd.id)
    st.submit_result(region.lab_user, rnd.id, region.lab.id, 100.00070, 0.00060)
    st.submit_result(region.lab_user, rnd.id, region.lab.id, 100.00050, 0.00060)  # replaces, before the deadline
    st.submit_result(me, rnd.id, new.id, 100.00090, 0.00030)
    st.submit_result(a, rnd.id, region.nmi.id, 100.00018, 0.00004)
    with pytest.raises(NotFoundError):  # a lab submits for itself only
        st.submit_result(region.lab_user, rnd.id, new.id, 1.0, 1.0)
    with pytest.raises(PermissionDeniedError):
        sv.close_round(st, a, rnd.id)
    assert [r.value for r in st.round_results(region.lab_user, rnd.id)] == [100.00050]
    closed, results = sv.close_round(st, region.reg, rnd.id)
    assert closed.status == "closed"
    by_lab = {r.lab_id: r for r in results}
    hand = {region.lab.id: (0.493197, "satisfactory", ()),
            new.id: (2.213594, "unsatisfactory", ("uncertainty_below_cmc",)),
            region.nmi.id: (-0.185695, "satisfactory", ("outside_scope",))}
    for lab_id, (score, evaluation, flags) in hand.items():
        r = by_lab[lab_id]
        assert r.score == pytest.approx(score, abs=5e-6)
        assert r.score == pytest.approx(en_score(r.value, r.expanded_uncertainty, 100.00020, 0.00010), rel=1e-12)
        assert r.evaluation.value == evaluation == str(classify(r.score, "en"))
        assert tuple(f.value for f in r.flags) == flags
    # stored, audited, told
    assert [r.score for r in st.round_results(region.reg, rnd.id)] == [r.score for r in results]
    assert st.get_round(region.c, rnd.id).assigned_value == 100.00020  # published once closed
    assert st.round_results(region.c, rnd.id) == []
    assert st.round_summary(region.c, rnd.id) == {"participants": 3, "evaluations": {"satisfactory": 2,
                                                                                      "unsatisfactory": 1},
                                                   "flags": {"uncertainty_below_cmc": 1, "outside_scope": 1}}
    mine = st.notifications(me, kind="proficiency")
    assert any("unsatisfactory" in n.subject and "uncertainty_below_cmc" in n.subject for n in mine)
    kinds = _audit_kinds(st)
    assert kinds.count("pt_result") == 4 and kinds.count("pt_scores") == 1 and kinds.count("pt_round") == 1
    with st._read() as conn:
        payload = json.loads(conn.execute(select(t.audit_entry.c.payload).where(
            t.audit_entry.c.kind == "pt_scores")).scalar())
    assert {s["lab"]: s["evaluation"] for s in payload["scores"]} == {"LAB": "satisfactory", "NEWLAB": "unsatisfactory",
                                                                      "NMI": "satisfactory"}
    with pytest.raises(ConflictError, match="closed"):
        st.submit_result(region.lab_user, rnd.id, region.lab.id, 100.0, 0.001)
    with pytest.raises(ConflictError, match="already closed"):
        sv.close_round(st, region.reg, rnd.id)
    # the directory shows each lab's latest performance
    standing = {s.lab.code: s for s in sv.directory(st, region.c)}
    assert standing["NEWLAB"].latest_pt["evaluation"] == "unsatisfactory"
    assert standing["LAB"].latest_pt["flags"] == []


def test_zeta_and_z_rounds_use_the_kernel(region):
    """zeta with u = U/k and u(x_pt) = U(x_pt)/2; z with sigma_pt (ISO 13528:2022 9.4, 9.6):
    zeta = (10.012 - 10.000) / sqrt((0.008/2)^2 + (0.004/2)^2) = 0.012 / 0.0044721 = 2.6833 -> questionable;
    z = (10.012 - 10.000) / 0.005 = 2.4 -> questionable."""
    st = region.store
    zr = _round(st, region.reg, code="PT-ZETA", assigned_value=10.0, assigned_uncertainty=0.004, score_kind="zeta")
    with pytest.raises(InvalidInputError) as e:
        _round(st, region.reg, code="PT-Z0", assigned_value=10.0, assigned_uncertainty=0.004, score_kind="z")
    assert e.value.details["field"] == "sigma_pt"
    zz = _round(st, region.reg, code="PT-Z", assigned_value=10.0, assigned_uncertainty=0.004, score_kind="z",
                sigma_pt=0.005)
    for r in (zr, zz):
        st.submit_result(region.lab_user, r.id, region.lab.id, 10.012, 0.008, 2.0)
    (_, (a,)), (_, (b,)) = sv.close_round(st, region.reg, zr.id), sv.close_round(st, region.reg, zz.id)
    assert a.score == pytest.approx(2.683282, abs=1e-6) == zeta_score(10.012, 0.004, 10.0, 0.002)
    assert b.score == pytest.approx(2.4) == z_score(10.012, 10.0, 0.005)
    assert a.evaluation.value == b.evaluation.value == "questionable"


def test_submission_rules(region):
    st = region.store
    new, me = _pending(region)  # applied: may not take part
    rnd = _round(st, region.reg)
    with pytest.raises(ConflictError, match="applied") as e:
        st.submit_result(me, rnd.id, new.id, 100.0, 0.001)
    assert e.value.details["state"] == "applied"
    with pytest.raises(NotFoundError):  # an enterprise submits nothing (another tenant's lab: not found)
        st.submit_result(region.c, rnd.id, region.lab.id, 100.0, 0.001)
    with pytest.raises(InvalidInputError) as e:
        st.submit_result(region.lab_user, rnd.id, region.lab.id, math.nan, 0.001)
    assert e.value.details["field"] == "value"
    st.decide_lab(region.reg, region.lab.id, LabDecision(action="suspend", reason="finding"))
    st.submit_result(region.lab_user, rnd.id, region.lab.id, 100.0, 0.001)  # suspended labs take part
    with st.engine.begin() as conn:
        conn.execute(update(t.pt_round).where(t.pt_round.c.id == rnd.id).values(
            opened_at=NOW - dt.timedelta(days=2), deadline=NOW - dt.timedelta(days=1)))
    with pytest.raises(ConflictError, match="deadline") as e:
        st.submit_result(region.lab_user, rnd.id, region.lab.id, 100.1, 0.001)
    assert st.round_results(region.reg, rnd.id)[0].value == 100.0
    with pytest.raises(InvalidInputError):  # a round is published with a deadline ahead
        _round(st, region.reg, code="PT-OLD", deadline=NOW - dt.timedelta(hours=1), opened_at=NOW - dt.timedelta(days=2))
    with pytest.raises(ConflictError):
        _round(st, region.reg)  # the same code twice


def test_cmc_flags_convert_units():
    """A scope in um covering a round in mm; a result in mm with k = 2.5 brought to k = 2."""
    line = ScopeEntry(quantity="length", range_min=0, range_max=200_000, unit="um", cmc_absolute=0.2, cmc_relative=2e-6)
    rnd = PtRound(code="R", title="r", quantity="length", unit="mm", artefact="a", assigned_value=100,
                  assigned_uncertainty=1e-4, opened_at=NOW, deadline=NOW + dt.timedelta(days=1))
    # CMC at 100 mm: 0.4 um = 4e-4 mm
    assert sv.cmc_flags(rnd, 100.0, 4e-4, 2.0, (line,)) == ()
    assert [f.value for f in sv.cmc_flags(rnd, 100.0, 4.9e-4, 2.5, (line,))] == ["uncertainty_below_cmc"]  # 3.92e-4
    assert [f.value for f in sv.cmc_flags(rnd, 250.0, 1.0, 2.0, (line,))] == ["outside_scope"]
    mass = line.model_copy(update={"quantity": "mass", "unit": "kg"})
    assert [f.value for f in sv.cmc_flags(rnd, 100.0, 1.0, 2.0, (mass,))] == ["outside_scope"]


def test_findings_answered_closed_reopened(region):
    st = region.store
    f = st.raise_finding(region.reg, AuditFinding(lab_id=region.lab.id, raised_at=NOW, severity="major",
                                                  clause="ISO/IEC 17025 7.6", description="budget omits temperature",
                                                  due=NOW + dt.timedelta(days=60)))
    for who in (region.c, region.lab_user, region.admin):
        with pytest.raises(PermissionDeniedError):
            st.raise_finding(who, AuditFinding(lab_id=region.lab.id, raised_at=NOW, severity="minor", description="x"))
    with pytest.raises(InvalidInputError):
        AuditFinding(lab_id=1, raised_at=NOW, severity="critical", description="x")
    assert [x.id for x in st.list_findings(region.lab_user)] == [f.id]
    assert st.list_findings(region.c) == [] and st.list_findings(region.x) == []
    with pytest.raises(NotFoundError):
        st.answer_finding(region.c, f.id, "nothing")
    with pytest.raises(ConflictError, match="open: nothing to reopen"):
        st.review_finding(region.reg, f.id, close=False, note="?")
    ans = st.answer_finding(region.lab_user, f.id, "budget revised, see QP-12 rev 3")
    assert ans.status.value == "answered" and ans.answered_by == "lab"
    with pytest.raises(PermissionDeniedError):
        st.review_finding(region.lab_user, f.id, close=True)
    with pytest.raises(InvalidInputError):
        st.review_finding(region.reg, f.id, close=False)  # reopening needs a note
    back = st.review_finding(region.reg, f.id, close=False, note="no evidence of the new budget in use")
    assert back.status.value == "open" and back.review_note.startswith("no evidence")
    st.answer_finding(region.lab_user, f.id, "budget in use since May, certificates 51-60 attached")
    done = st.review_finding(region.reg, f.id, close=True, note="verified")
    assert done.status.value == "closed" and done.closed_by == "reg"
    with pytest.raises(ConflictError, match="closed"):
        st.answer_finding(region.lab_user, f.id, "more")
    assert _audit_kinds(st).count("audit_finding") == 5 and st.verify_audit().ok  # raise, answer, reopen, answer, close
    assert len(st.notifications(region.lab_user, kind="finding")) == 3  # raised, reopened, closed
    assert len(st.notifications(region.reg, kind="finding")) == 2  # two answers


def test_indicators_and_directory(region):
    st = region.store
    new, me = _pending(region)
    st.raise_finding(region.reg, AuditFinding(lab_id=region.lab.id, raised_at=NOW, severity="major", description="m"))
    ind = sv.supervision_indicators(st, region.reg)
    assert ind["labs"] == {"applied": 1, "qualified": 2, "suspended": 0, "revoked": 0}
    assert ind["pending_applications"] == 1 and ind["open_findings"] == {"major": 1, "minor": 0, "observation": 0}
    assert ind["rounds"] == {"open": 0, "closed": 0} and ind["flagged_results"]["uncertainty_below_cmc"] == 0
    for who in (region.c, region.lab_user):
        with pytest.raises(PermissionDeniedError):
            sv.supervision_indicators(st, who)
    ent = {s.lab.code: s for s in sv.directory(st, region.c)}
    assert set(ent) == {"NMI", "LAB"} and ent["LAB"].open_findings == {"major": 1}
    assert {s.lab.code for s in sv.directory(st, me)} == {"NMI", "LAB", "NEWLAB"}
    assert [s.lab.code for s in sv.directory(st, region.reg)][0] == "NMI"  # institutes first


def _demo_base(path):
    """The demo region's organisations, labs and standards (what the supervision story needs)."""
    from jingce.services.demo.build import _Builder
    from jingce.settings import Settings
    from jingce.store import Store

    st = Store(Settings(data_dir=path))
    b = _Builder(st, 7, 0.02, lambda msg, frac: None)
    b.organisations()
    b.labs_and_standards()
    return st, b


def _demo_fingerprint(st):
    reg = st.actor("regulator")
    labs = sorted((lab.code, lab.qualification.value) for lab in st.list_labs(reg))
    rounds = []
    for r in sorted(st.list_rounds(reg), key=lambda r: r.code):
        codes = {lab.id: lab.code for lab in st.list_labs(reg)}
        rounds.append((r.code, r.status, sorted((codes[x.lab_id], x.value, x.expanded_uncertainty, x.score,
                                                 x.evaluation and x.evaluation.value, x.flags)
                                                for x in st.round_results(reg, r.id))))
    findings = sorted((f.severity.value, f.status.value, f.description) for f in st.list_findings(reg))
    return labs, rounds, findings


def test_demo_supervision_story_is_deterministic(tmp_path):
    from jingce.services.demo import supervision_demo

    prints = []
    for name in ("a", "b"):
        st, b = _demo_base(tmp_path / name)
        out = supervision_demo.extend(st, b.admin, b)
        assert out["created"] and not supervision_demo.extend(st, b.admin, b)["created"]  # once
        prints.append(_demo_fingerprint(st))
        reg = st.actor("regulator")
        ind = sv.supervision_indicators(st, reg)
        assert ind["pending_applications"] == 1  # LAB11 waits for review
        assert ind["labs"]["suspended"] >= 1
        assert ind["results"]["unsatisfactory"] == 1 and ind["flagged_results"]["uncertainty_below_cmc"] == 1
        assert ind["open_findings"]["major"] == 1 and ind["rounds"] == {"open": 1, "closed": 1}
        suspended = [e for lab in st.list_labs(reg) if lab.qualification.value == "suspended"
                     for e in st.lab_events(reg, lab.id) if e.action == "suspend"]
        assert suspended and all(e.reason for e in suspended)  # a suspended lab, with the reason
        assert any(f.status.value == "closed" for f in st.list_findings(reg))
        lab01 = st.actor("lab01")
        assert any(r.status == "open" for r in st.list_rounds(lab01))  # something for the demo lab to answer
        assert [f.status.value for f in st.list_findings(lab01)] == ["open"]
        assert st.verify_audit().ok
    assert prints[0] == prints[1]


def test_a_negative_assigned_value_is_scored(region):
    """A round on a deviation (x_pt = -0.0030 mm): E_n = (-0.0026 + 0.0030) / sqrt(0.0004^2 + 0.0002^2)
    = 0.0004 / 4.47214e-4 = 0.894427 -> satisfactory (the kernel's en_score itself refuses x_pt < 0)."""
    st = region.store
    rnd = _round(st, region.reg, code="PT-NEG", quantity="length", assigned_value=-0.0030, assigned_uncertainty=0.0002)
    st.submit_result(region.lab_user, rnd.id, region.lab.id, -0.0026, 0.0004)
    _, (res,) = sv.close_round(st, region.reg, rnd.id)
    assert res.score == pytest.approx(0.894427, abs=1e-6) and res.evaluation.value == "satisfactory"
    assert [f.value for f in res.flags] == ["outside_scope"]  # the scope covers 0 ... 500 mm


def test_a_decision_is_all_or_nothing(region, monkeypatch):
    """State, event, audit entry and notification are one transaction: a failure in the last step
    leaves none of them."""
    st = region.store
    lab, _ = _pending(region)
    before = (len(_audit_kinds(st)), len(st.lab_events(region.reg, lab.id)))

    def broken(*args, **kwargs):
        raise RuntimeError("notification store down")

    monkeypatch.setattr(st, "notify", broken)
    with pytest.raises(RuntimeError):
        st.decide_lab(region.reg, lab.id, LabDecision(action="qualify"))
    monkeypatch.undo()
    assert st.get_lab(region.reg, lab.id).qualification.value == "applied"
    assert (len(_audit_kinds(st)), len(st.lab_events(region.reg, lab.id))) == before
    assert st.verify_audit().ok
