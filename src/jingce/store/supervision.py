"""Lab applications, qualification decisions, proficiency rounds and audit findings.

Who may do what (issue 9 item 4):

- a lab applies (a LAB user for a lab of its own tenant; the regulator or the admin may register
  an application for any tenant); the application starts ``applied``;
- only the REGULATOR decides on qualification, publishes and closes proficiency-testing rounds and
  raises, closes or reopens audit findings (the platform admin runs the platform and takes no
  supervisory decision);
- a lab (its tenant's LAB users) submits its results and answers its findings.

Every step writes its row(s), an audit-chain entry and the notifications in one transaction.

Reading: the regulator and the admin see everything; a lab's tenant sees its labs' events,
results and findings; a round is visible to every lab user (the assigned value only once it is
closed) and, once closed, to everybody (its published summary; the per-lab results stay with the
labs and the regulator). An ``applied`` lab is seen only by its own tenant, the regulator and the
admin (see :meth:`jingce.store.metrology.MetrologyMixin.get_lab`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from jingce.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from jingce.model import Lab, QualificationState, Role, ScopeEntry
from jingce.model.supervision import (
    AuditFinding,
    Evaluation,
    FindingStatus,
    LabAction,
    LabDecision,
    LabEvent,
    PtResult,
    PtRound,
    ResultFlag,
    next_state,
)
from jingce.store import audit
from jingce.store import tables as t
from jingce.store.core import StoreBase
from jingce.store.tenancy import Actor

SUBMITTING_STATES = frozenset({QualificationState.QUALIFIED.value, QualificationState.SUSPENDED.value})
"""Labs that may take part in a round: qualified ones, and suspended ones (a satisfactory result
is part of the evidence for reinstatement, ISO/IEC 17011 7.11)."""

ACTION_ZH = {"apply": "申请", "qualify": "资质认定", "reject": "驳回申请", "suspend": "暂停资质",
             "reinstate": "恢复资质", "revoke": "撤销资质"}

Scorer = Callable[[PtRound, list[PtResult], dict[int, tuple[ScopeEntry, ...]]],
                  Sequence[tuple[float | None, str | None, tuple[str, ...]]]]
"""Scores a closed round: (round, results, scope of each participating lab) -> (score,
evaluation, flags) per result, in order. Supplied by the services layer (the kernels live there)."""


@dataclass(frozen=True, slots=True)
class LabStanding:
    """A lab in the directory: its record, its latest proficiency performance and open findings."""

    lab: Lab
    latest_pt: dict | None = None  # round, code, closed_at, score_kind, score, evaluation, flags
    open_findings: dict[str, int] = field(default_factory=dict)  # severity -> open (or answered) findings


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def require_regulator(actor: Actor, what: str) -> None:
    if actor.role is not Role.REGULATOR:
        raise PermissionDeniedError(f"only the regulator may {what} (role {actor.role.value})", field="role")


class SupervisionMixin(StoreBase):
    """Lab applications, qualification decisions, proficiency rounds and audit findings."""

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _regulator_tenants(conn: Connection) -> list[int]:
        return list(conn.execute(select(t.tenant.c.id).where(t.tenant.c.kind == "regulator")).scalars())

    def _tell(self, conn: Connection, tenant_ids, kind: str, ref: str, subject: str, body: dict) -> None:
        self.notify(tenant_ids, kind, ref, subject, body, conn=conn)  # NotificationsMixin (composed in Store)

    @staticmethod
    def _lab_row(conn: Connection, actor: Actor, lab_id: int):
        """The lab row if the actor may read it (regulator, admin, own tenant, or not an application)."""
        row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
        if row is None or not (actor.is_admin or actor.is_regulator or row.tenant_id == actor.tenant_id
                               or row.qualification != QualificationState.APPLIED.value):
            raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
        return row

    @staticmethod
    def _own_lab_row(conn: Connection, actor: Actor, lab_id: int, what: str):
        """The lab row when the actor acts as that lab (its tenant's LAB users; the admin)."""
        row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
        if row is None or not (actor.is_admin or row.tenant_id == actor.tenant_id):
            raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
        if not actor.is_admin and actor.role is not Role.LAB:
            raise PermissionDeniedError(f"only the lab itself may {what} (role {actor.role.value})", field="role")
        return row

    @staticmethod
    def _scope(row) -> tuple[ScopeEntry, ...]:
        return tuple(ScopeEntry(**s) for s in (row.scope or []))

    def _lab(self, row) -> Lab:
        return self._model(Lab, row, scope=self._scope(row))

    # -- applications and decisions ----------------------------------------------------------

    def apply_lab(self, actor: Actor, lab: Lab) -> Lab:
        """A lab applies for qualification with its scope; the application starts ``applied``.

        A LAB user applies for its own tenant (another tenant is "not found"); the regulator and
        the admin may register an application for any lab tenant. Enterprise users may not.
        """
        if not (actor.is_admin or actor.is_regulator or actor.role is Role.LAB):
            raise PermissionDeniedError(f"role {actor.role.value} may not apply as a lab", field="role")
        if actor.role is Role.LAB and lab.tenant_id != actor.tenant_id:
            raise NotFoundError(f"tenant {lab.tenant_id} not found", field="tenant_id")
        lab = lab.model_copy(update={"qualification": QualificationState.APPLIED})
        now = _now()
        with self._write() as conn:
            tenant = conn.execute(select(t.tenant).where(t.tenant.c.id == lab.tenant_id)).first()
            if tenant is None:
                raise NotFoundError(f"tenant {lab.tenant_id} not found", field="tenant_id")
            if tenant.kind != "lab":
                raise InvalidInputError(f"tenant {tenant.code} is a {tenant.kind} tenant, not a lab", field="tenant_id")
            values = self._row(lab, exclude=("id", "scope")) | {
                "qualification": QualificationState.APPLIED.value,
                "scope": [s.model_dump(mode="json") for s in lab.scope]}
            try:
                with conn.begin_nested():
                    lab_id = conn.execute(insert(t.lab).values(**values)).inserted_primary_key[0]
            except IntegrityError:
                raise ConflictError(f"lab code {lab.code!r} already exists", field="code") from None
            event_id = conn.execute(insert(t.lab_event).values(
                lab_id=lab_id, at=now, action=LabAction.APPLY.value, from_state=None,
                to_state=QualificationState.APPLIED.value, reason=None, actor=actor.username)).inserted_primary_key[0]
            seq, digest = audit.append(conn, "lab_application", lab.code,
                                       lab.model_dump(mode="json") | {"id": lab_id, "event_id": event_id},
                                       actor.username)
            subject = f"实验室 {lab.code} 已提交资质申请 / Lab {lab.code} applied for qualification"
            body = {"lab_id": lab_id, "code": lab.code, "action": "apply", "to_state": "applied"}
            self._tell(conn, [lab.tenant_id, *self._regulator_tenants(conn)], "qualification",
                       f"lab:{lab_id}:event:{event_id}", subject, body)
        audit.write_anchor(self.anchor_path, seq, digest)
        return lab.model_copy(update={"id": lab_id})

    def decide_lab(self, actor: Actor, lab_id: int, decision: LabDecision) -> Lab:
        """The regulator qualifies, rejects, suspends, reinstates or revokes a lab.

        An illegal move (revoked -> qualified, qualifying a qualified lab) is a ConflictError
        naming the lab's state. The event, the audit entry and the notification to the lab's
        tenant are written in one transaction.
        """
        require_regulator(actor, f"{decision.action.value} a lab")
        now = _now()
        with self._write() as conn:
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
            if row is None:
                raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
            target = next_state(row.qualification, decision.action)
            conn.execute(update(t.lab).where(t.lab.c.id == lab_id).values(qualification=target.value))
            reason = (decision.reason or "").strip() or None
            event_id = conn.execute(insert(t.lab_event).values(
                lab_id=lab_id, at=now, action=decision.action.value, from_state=row.qualification,
                to_state=target.value, reason=reason, actor=actor.username)).inserted_primary_key[0]
            payload = {"lab_id": lab_id, "event_id": event_id, "action": decision.action.value,
                       "from_state": row.qualification, "to_state": target.value, "reason": reason}
            seq, digest = audit.append(conn, "lab_decision", row.code, payload, actor.username)
            act = decision.action.value
            subject = f"实验室 {row.code}：{ACTION_ZH[act]} / Lab {row.code}: {act} ({row.qualification} -> {target.value})"
            self._tell(conn, [row.tenant_id], "qualification", f"lab:{lab_id}:event:{event_id}", subject,
                       payload | {"code": row.code})
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
        audit.write_anchor(self.anchor_path, seq, digest)
        return self._lab(row)

    def lab_events(self, actor: Actor, lab_id: int) -> list[LabEvent]:
        """A lab's qualification history, oldest first (the regulator, the admin, the lab itself)."""
        with self._read() as conn:
            row = conn.execute(select(t.lab).where(t.lab.c.id == lab_id)).first()
            if row is None or not (actor.is_admin or actor.is_regulator or row.tenant_id == actor.tenant_id):
                raise NotFoundError(f"lab {lab_id} not found", field="lab_id")
            rows = conn.execute(select(t.lab_event).where(t.lab_event.c.lab_id == lab_id)
                                .order_by(t.lab_event.c.at, t.lab_event.c.id)).all()
        return [self._model(LabEvent, r) for r in rows]

    # -- proficiency testing ------------------------------------------------------------------

    def add_round(self, actor: Actor, pt: PtRound) -> PtRound:
        """The regulator publishes a round; the labs that may take part are told."""
        require_regulator(actor, "publish a proficiency-testing round")
        for name in ("assigned_value", "assigned_uncertainty"):
            if getattr(pt, name) is None:
                raise InvalidInputError("the regulator publishes the round with it", field=name)
        if pt.deadline <= _now():
            raise InvalidInputError("the deadline must be in the future", field="deadline")
        pt = pt.model_copy(update={"status": "open", "closed_at": None, "created_by": actor.username})
        with self._write() as conn:
            values = self._row(pt) | {"score_kind": pt.score_kind.value}
            try:
                with conn.begin_nested():
                    rid = conn.execute(insert(t.pt_round).values(**values)).inserted_primary_key[0]
            except IntegrityError:
                raise ConflictError(f"round code {pt.code!r} already exists", field="code") from None
            seq, digest = audit.append(conn, "pt_round", pt.code, pt.model_dump(mode="json") | {"id": rid},
                                       actor.username)
            tenants = conn.execute(select(t.lab.c.tenant_id).where(
                t.lab.c.qualification.in_(sorted(SUBMITTING_STATES)))).scalars()
            self._tell(conn, tenants, "proficiency", f"round:{rid}",
                       f"能力验证 {pt.code} 已发布，截止 {pt.deadline:%Y-%m-%d} / Proficiency round {pt.code} "
                       f"published, deadline {pt.deadline:%Y-%m-%d}",
                       {"round_id": rid, "code": pt.code, "deadline": pt.deadline.isoformat()})
        audit.write_anchor(self.anchor_path, seq, digest)
        return pt.model_copy(update={"id": rid})

    @staticmethod
    def _round_visible(actor: Actor, row) -> bool:
        return actor.is_admin or actor.is_regulator or actor.role is Role.LAB or row.status == "closed"

    @staticmethod
    def _round_model(actor: Actor, row) -> PtRound:
        pt = StoreBase._model(PtRound, row)
        if row.status != "closed" and not (actor.is_admin or actor.is_regulator):
            pt = pt.model_copy(update={"assigned_value": None, "assigned_uncertainty": None, "sigma_pt": None})
        return pt

    def list_rounds(self, actor: Actor) -> list[PtRound]:
        """Rounds the actor may see, newest first (labs: the assigned value only once closed;
        enterprises: closed rounds only)."""
        with self._read() as conn:
            rows = conn.execute(select(t.pt_round).order_by(t.pt_round.c.opened_at.desc(), t.pt_round.c.id.desc()))
            return [self._round_model(actor, r) for r in rows if self._round_visible(actor, r)]

    def get_round(self, actor: Actor, round_id: int) -> PtRound:
        with self._read() as conn:
            row = conn.execute(select(t.pt_round).where(t.pt_round.c.id == round_id)).first()
        if row is None or not self._round_visible(actor, row):
            raise NotFoundError(f"proficiency round {round_id} not found", field="round_id")
        return self._round_model(actor, row)

    def round_results(self, actor: Actor, round_id: int) -> list[PtResult]:
        """The results of a round the actor may see: the regulator and the admin all of them, a
        lab's tenant its own labs' results, enterprises none (they get the published summary)."""
        self.get_round(actor, round_id)
        q = (select(t.pt_result).join(t.lab, t.lab.c.id == t.pt_result.c.lab_id)
             .where(t.pt_result.c.round_id == round_id).order_by(t.pt_result.c.id))
        if not (actor.is_admin or actor.is_regulator):
            if actor.role is not Role.LAB:
                return []
            q = q.where(t.lab.c.tenant_id == actor.tenant_id)
        with self._read() as conn:
            return [self._result_model(r) for r in conn.execute(q)]

    def _result_model(self, row) -> PtResult:
        return self._model(PtResult, row, flags=tuple(row.flags or ()))

    def round_summary(self, actor: Actor, round_id: int) -> dict:
        """A round's published summary: participants and results per evaluation and flag (no lab's
        values). Anyone who may see the round (enterprises: once closed)."""
        self.get_round(actor, round_id)
        with self._read() as conn:
            rows = conn.execute(select(t.pt_result.c.evaluation, t.pt_result.c.flags)
                                .where(t.pt_result.c.round_id == round_id)).all()
        evaluations: dict[str, int] = {}
        flags: dict[str, int] = {}
        for r in rows:
            key = r.evaluation or "unscored"
            evaluations[key] = evaluations.get(key, 0) + 1
            for f in r.flags or ():
                flags[f] = flags.get(f, 0) + 1
        return {"participants": len(rows), "evaluations": evaluations, "flags": flags}

    def submit_result(self, actor: Actor, round_id: int, lab_id: int, value: float, expanded_uncertainty: float,
                      coverage_factor: float = 2.0) -> PtResult:
        """A lab's result (value, U, k in the round's unit). Until the deadline a lab may submit
        again: the new result replaces the old one (both stay in the audit chain). After the
        deadline, or once the round is closed, nothing is accepted."""
        now = _now()
        with self._write() as conn:
            lab = self._own_lab_row(conn, actor, lab_id, "submit its proficiency result")
            rnd = conn.execute(select(t.pt_round).where(t.pt_round.c.id == round_id)).first()
            if rnd is None:
                raise NotFoundError(f"proficiency round {round_id} not found", field="round_id")
            if rnd.status != "open":
                raise ConflictError(f"round {rnd.code} is {rnd.status}: no more results", field="round_id",
                                    state=rnd.status)
            if now > rnd.deadline:
                raise ConflictError(f"the deadline of round {rnd.code} ({rnd.deadline:%Y-%m-%d %H:%M} UTC) has passed",
                                    field="round_id", state="past_deadline")
            if lab.qualification not in SUBMITTING_STATES:
                raise ConflictError(f"lab {lab.code} is {lab.qualification}: only qualified or suspended labs take part",
                                    field="lab_id", state=lab.qualification)
            result = PtResult(round_id=round_id, lab_id=lab_id, value=value, expanded_uncertainty=expanded_uncertainty,
                              coverage_factor=coverage_factor, submitted_at=now)
            old = conn.execute(select(t.pt_result).where(t.pt_result.c.round_id == round_id,
                                                          t.pt_result.c.lab_id == lab_id)).first()
            values = {"value": result.value, "expanded_uncertainty": result.expanded_uncertainty,
                      "coverage_factor": result.coverage_factor, "submitted_at": now}
            if old is None:
                rid = conn.execute(insert(t.pt_result).values(round_id=round_id, lab_id=lab_id, flags=[],
                                                              **values)).inserted_primary_key[0]
            else:
                rid = old.id
                conn.execute(update(t.pt_result).where(t.pt_result.c.id == rid).values(**values))
            seq, digest = audit.append(conn, "pt_result", f"{rnd.code}/{lab.code}",
                                       result.model_dump(mode="json") | {"id": rid, "replaces": old is not None},
                                       actor.username)
        audit.write_anchor(self.anchor_path, seq, digest)
        return result.model_copy(update={"id": rid})

    def close_round(self, actor: Actor, round_id: int, scorer: Scorer) -> tuple[PtRound, list[PtResult]]:
        """The regulator closes a round; ``scorer`` scores its results inside the same transaction
        (so no result can slip in between), each lab's tenant is told its score."""
        require_regulator(actor, "close a proficiency-testing round")
        now = _now()
        with self._write() as conn:
            rnd = conn.execute(select(t.pt_round).where(t.pt_round.c.id == round_id)).first()
            if rnd is None:
                raise NotFoundError(f"proficiency round {round_id} not found", field="round_id")
            if rnd.status != "open":
                raise ConflictError(f"round {rnd.code} is already {rnd.status}", field="round_id", state=rnd.status)
            rows = conn.execute(select(t.pt_result).where(t.pt_result.c.round_id == round_id)
                                .order_by(t.pt_result.c.id)).all()
            results = [self._result_model(r) for r in rows]
            labs = {r.id: r for r in conn.execute(select(t.lab).where(
                t.lab.c.id.in_(sorted({r.lab_id for r in rows}))))} if rows else {}
            pt = self._model(PtRound, rnd)
            scored = list(scorer(pt, results, {i: self._scope(r) for i, r in labs.items()})) if results else []
            if len(scored) != len(results):
                raise ValueError("the scorer must score every result")  # a programming error, not input
            out = []
            for res, (score, evaluation, flags) in zip(results, scored, strict=True):
                conn.execute(update(t.pt_result).where(t.pt_result.c.id == res.id).values(
                    score=score, evaluation=evaluation, flags=list(flags)))
                out.append(res.model_copy(update={
                    "score": score, "evaluation": None if evaluation is None else Evaluation(evaluation),
                    "flags": tuple(ResultFlag(f) for f in flags)}))
            conn.execute(update(t.pt_round).where(t.pt_round.c.id == round_id).values(status="closed", closed_at=now))
            payload = {"round_id": round_id, "scores": [{"lab": labs[r.lab_id].code, "score": r.score,
                                                         "evaluation": r.evaluation, "flags": list(r.flags)}
                                                        for r in out]}
            seq, digest = audit.append(conn, "pt_scores", rnd.code, payload, actor.username)
            for r in out:
                lab = labs[r.lab_id]
                ev = r.evaluation.value if r.evaluation is not None else "unscored"
                zh = {"satisfactory": "满意", "questionable": "有问题", "unsatisfactory": "不满意"}.get(ev, ev)
                flags_txt = f" [{', '.join(f.value for f in r.flags)}]" if r.flags else ""
                score_txt = "—" if r.score is None else f"{r.score:.2f}"
                self._tell(conn, [lab.tenant_id], "proficiency", f"pt_result:{r.id}",
                           f"能力验证 {rnd.code}：{lab.code} {pt.score_kind.value} = {score_txt}，{zh} / "
                           f"Proficiency round {rnd.code}: {lab.code} {pt.score_kind.value} = {score_txt}, "
                           f"{ev}{flags_txt}",
                           {"round_id": round_id, "lab_id": lab.id, "score": r.score, "evaluation": ev,
                            "flags": [f.value for f in r.flags]})
            rnd = conn.execute(select(t.pt_round).where(t.pt_round.c.id == round_id)).first()
        audit.write_anchor(self.anchor_path, seq, digest)
        return self._model(PtRound, rnd), out

    # -- audit findings -----------------------------------------------------------------------

    def raise_finding(self, actor: Actor, finding: AuditFinding) -> AuditFinding:
        """The regulator raises a finding on a lab; the lab's tenant is told."""
        require_regulator(actor, "raise an audit finding")
        finding = finding.model_copy(update={"status": FindingStatus.OPEN, "raised_by": actor.username,
                                             "closure": None, "answered_at": None, "answered_by": None,
                                             "closed_at": None, "closed_by": None, "review_note": None})
        with self._write() as conn:
            lab = conn.execute(select(t.lab).where(t.lab.c.id == finding.lab_id)).first()
            if lab is None:
                raise NotFoundError(f"lab {finding.lab_id} not found", field="lab_id")
            fid = conn.execute(insert(t.audit_finding).values(**self._row(finding))).inserted_primary_key[0]
            seq, digest = self._finding_step(conn, actor, lab, fid, "raise", finding.model_dump(mode="json"))
        audit.write_anchor(self.anchor_path, seq, digest)
        return finding.model_copy(update={"id": fid})

    _FINDING_ZH = {"raise": "新的审核发现", "answer": "已答复整改", "close": "已关闭", "reopen": "已重新打开"}

    def _finding_step(self, conn: Connection, actor: Actor, lab, finding_id: int, step: str,
                      payload: dict) -> tuple[int, str]:
        payload = payload | {"finding_id": finding_id, "step": step}
        seq, digest = audit.append(conn, "audit_finding", f"{lab.code}/{finding_id}", payload, actor.username)
        row = conn.execute(select(t.audit_finding).where(t.audit_finding.c.id == finding_id)).first()
        tenants = self._regulator_tenants(conn) if step == "answer" else [lab.tenant_id]
        self._tell(conn, tenants, "finding", f"finding:{finding_id}:{step}:{seq}",
                   f"实验室 {lab.code} 审核发现 #{finding_id}（{row.severity}）{self._FINDING_ZH[step]} / "
                   f"Lab {lab.code} audit finding #{finding_id} ({row.severity}): {step}",
                   {"finding_id": finding_id, "lab_id": lab.id, "step": step, "status": row.status})
        return seq, digest

    def _finding_rows(self, conn: Connection, actor: Actor, finding_id: int):
        row = conn.execute(select(t.audit_finding).where(t.audit_finding.c.id == finding_id)).first()
        lab = None if row is None else conn.execute(select(t.lab).where(t.lab.c.id == row.lab_id)).first()
        if row is None or not (actor.is_admin or actor.is_regulator or lab.tenant_id == actor.tenant_id):
            raise NotFoundError(f"audit finding {finding_id} not found", field="finding_id")
        return row, lab

    def list_findings(self, actor: Actor, *, lab_id: int | None = None, open_only: bool = False) -> list[AuditFinding]:
        """Findings the actor may see (the regulator and the admin all; a lab's tenant its own;
        enterprises none), newest first."""
        q = (select(t.audit_finding).join(t.lab, t.lab.c.id == t.audit_finding.c.lab_id)
             .order_by(t.audit_finding.c.raised_at.desc(), t.audit_finding.c.id.desc()))
        if not (actor.is_admin or actor.is_regulator):
            q = q.where(t.lab.c.tenant_id == actor.tenant_id)
        if lab_id is not None:
            q = q.where(t.audit_finding.c.lab_id == lab_id)
        if open_only:
            q = q.where(t.audit_finding.c.status != FindingStatus.CLOSED.value)
        with self._read() as conn:
            return [self._model(AuditFinding, r) for r in conn.execute(q)]

    def get_finding(self, actor: Actor, finding_id: int) -> AuditFinding:
        with self._read() as conn:
            row, _lab = self._finding_rows(conn, actor, finding_id)
        return self._model(AuditFinding, row)

    def answer_finding(self, actor: Actor, finding_id: int, corrective_action: str) -> AuditFinding:
        """The lab answers a finding with its corrective action (again, while not closed: the
        newer answer replaces the older; both stay in the audit chain)."""
        text = (corrective_action or "").strip()
        if not text:
            raise InvalidInputError("describe the corrective action and its evidence", field="corrective_action")
        now = _now()
        with self._write() as conn:
            row, lab = self._finding_rows(conn, actor, finding_id)
            self._own_lab_row(conn, actor, lab.id, "answer its audit findings")
            if row.status == FindingStatus.CLOSED.value:
                raise ConflictError(f"audit finding {finding_id} is closed", field="finding_id", state=row.status)
            conn.execute(update(t.audit_finding).where(t.audit_finding.c.id == finding_id).values(
                status=FindingStatus.ANSWERED.value, closure=text, answered_at=now, answered_by=actor.username))
            seq, digest = self._finding_step(conn, actor, lab, finding_id, "answer",
                                             {"from": row.status, "corrective_action": text})
            row = conn.execute(select(t.audit_finding).where(t.audit_finding.c.id == finding_id)).first()
        audit.write_anchor(self.anchor_path, seq, digest)
        return self._model(AuditFinding, row)

    def review_finding(self, actor: Actor, finding_id: int, *, close: bool, note: str | None = None) -> AuditFinding:
        """The regulator closes a finding (open or answered) or reopens it (answered or closed:
        the corrective action was not enough; a note saying why is required)."""
        require_regulator(actor, "close or reopen an audit finding")
        note = (note or "").strip() or None
        step = "close" if close else "reopen"
        now = _now()
        with self._write() as conn:
            row, lab = self._finding_rows(conn, actor, finding_id)
            if close and row.status == FindingStatus.CLOSED.value:
                raise ConflictError(f"audit finding {finding_id} is already closed", field="finding_id",
                                    state=row.status)
            if not close and row.status == FindingStatus.OPEN.value:
                raise ConflictError(f"audit finding {finding_id} is open: nothing to reopen", field="finding_id",
                                    state=row.status)
            if not close and note is None:
                raise InvalidInputError("say why the finding is reopened", field="note")
            values = ({"status": FindingStatus.CLOSED.value, "closed_at": now, "closed_by": actor.username}
                      if close else {"status": FindingStatus.OPEN.value, "closed_at": None, "closed_by": None})
            conn.execute(update(t.audit_finding).where(t.audit_finding.c.id == finding_id)
                         .values(review_note=note, **values))
            seq, digest = self._finding_step(conn, actor, lab, finding_id, step, {"from": row.status, "note": note})
            row = conn.execute(select(t.audit_finding).where(t.audit_finding.c.id == finding_id)).first()
        audit.write_anchor(self.anchor_path, seq, digest)
        return self._model(AuditFinding, row)

    # -- the directory and the regulator's counts ---------------------------------------------

    def lab_directory(self, actor: Actor) -> list[LabStanding]:
        """Labs the actor may see (applications only by the regulator, the admin and the lab's own
        tenant), each with its latest proficiency result and its open findings by severity."""
        with self._read() as conn:
            labs = [r for r in conn.execute(select(t.lab).order_by(t.lab.c.id))
                    if actor.is_admin or actor.is_regulator or r.tenant_id == actor.tenant_id
                    or r.qualification != QualificationState.APPLIED.value]
            latest: dict[int, dict] = {}
            q = (select(t.pt_result, t.pt_round.c.code, t.pt_round.c.closed_at, t.pt_round.c.score_kind)
                 .join(t.pt_round, t.pt_round.c.id == t.pt_result.c.round_id)
                 .where(t.pt_round.c.status == "closed")
                 .order_by(t.pt_round.c.closed_at, t.pt_round.c.id))
            for r in conn.execute(q):  # ordered: each lab's latest closed round wins
                latest[r.lab_id] = {"round_id": r.round_id, "code": r.code, "closed_at": r.closed_at,
                                    "score_kind": r.score_kind, "score": r.score, "evaluation": r.evaluation,
                                    "flags": list(r.flags or ())}
            open_f: dict[int, dict[str, int]] = {}
            for r in conn.execute(select(t.audit_finding.c.lab_id, t.audit_finding.c.severity, func.count())
                                  .where(t.audit_finding.c.status != FindingStatus.CLOSED.value)
                                  .group_by(t.audit_finding.c.lab_id, t.audit_finding.c.severity)):
                open_f.setdefault(r[0], {})[r[1]] = int(r[2])
        return [LabStanding(self._lab(r), latest.get(r.id), open_f.get(r.id, {})) for r in labs]

    def supervision_counts(self, actor: Actor) -> dict:
        """Counts for the regulator's region view (the regulator and the admin only)."""
        if not (actor.is_admin or actor.is_regulator):
            raise PermissionDeniedError("only the regulator sees the supervision indicators", field="role")
        with self._read() as conn:
            labs = dict(conn.execute(select(t.lab.c.qualification, func.count()).group_by(t.lab.c.qualification)).all())
            rounds = dict(conn.execute(select(t.pt_round.c.status, func.count()).group_by(t.pt_round.c.status)).all())
            results = conn.execute(select(t.pt_result.c.evaluation, t.pt_result.c.flags)).all()
            findings = dict(conn.execute(select(t.audit_finding.c.severity, func.count())
                                         .where(t.audit_finding.c.status != FindingStatus.CLOSED.value)
                                         .group_by(t.audit_finding.c.severity)).all())
            answered = conn.execute(select(func.count()).where(
                t.audit_finding.c.status == FindingStatus.ANSWERED.value)).scalar()
        by_eval: dict[str, int] = {}
        flags: dict[str, int] = {}
        for r in results:
            by_eval[r.evaluation or "unscored"] = by_eval.get(r.evaluation or "unscored", 0) + 1
            for f in r.flags or ():
                flags[f] = flags.get(f, 0) + 1
        return {"labs": {k: int(v) for k, v in labs.items()}, "rounds": {k: int(v) for k, v in rounds.items()},
                "results": by_eval, "flags": flags, "open_findings": {k: int(v) for k, v in findings.items()},
                "answered_findings": int(answered or 0)}
