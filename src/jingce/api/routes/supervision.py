"""Lab qualification and supervision: applications, qualification decisions, proficiency rounds, audit findings.

Only the regulator decides on qualification, publishes and closes rounds and raises, closes or
reopens findings (the platform admin does not: 403); a lab applies, submits its results and
answers its findings. See :mod:`jingce.store.supervision` for who reads what.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from jingce.api.deps import get_actor, get_store
from jingce.api.routes._params import MAX_ID, Id, OptionalId, RequestModel, UnitStr
from jingce.errors import FormatError
from jingce.model import Lab, LabLevel, ScopeEntry
from jingce.model.supervision import (
    AuditFinding,
    FindingSeverity,
    LabDecision,
    LabEvent,
    PtResult,
    PtRound,
    ScoreKind,
)
from jingce.services import supervision as sv
from jingce.store import Actor, Store
from jingce.store.supervision import require_regulator

router = APIRouter(tags=["labs"])
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
BIG = 1e12


def _aware(value: dt.datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise FormatError("must carry a UTC offset", field=name)


# -- applications and decisions ---------------------------------------------------------------


class ScopeLineIn(RequestModel):
    """One line of the scope applied for: quantity, range, CMC (k = 2) and the price per item."""

    quantity: str = Field(min_length=1, max_length=64)
    range_min: float = Field(ge=-BIG, le=BIG)
    range_max: float = Field(ge=-BIG, le=BIG)
    unit: UnitStr = "mm"
    cmc_absolute: float = Field(ge=0, le=BIG)
    cmc_relative: float = Field(0.0, ge=0, le=1)
    method: str | None = Field(None, max_length=256)
    price: float | None = Field(None, ge=0, le=BIG, description="CNY per item")


class ApplicationIn(RequestModel):
    """A lab's application (a lab user: for its own tenant; the regulator or the admin name ``tenant_id``)."""

    tenant_id: int | None = Field(None, ge=1, le=MAX_ID)
    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    name: str = Field(min_length=1, max_length=256)
    level: LabLevel = LabLevel.LAB
    accreditation_no: str | None = Field(None, max_length=64)
    scope: list[ScopeLineIn] = Field(min_length=1, max_length=500)


@router.post("/supervision/applications", response_model=Lab, status_code=201)
def apply(body: ApplicationIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A lab applies for qualification with its scope; it starts ``applied``."""
    fields = body.model_dump()
    tenant_id = fields.pop("tenant_id") or actor.tenant_id
    scope = tuple(ScopeEntry(**s) for s in fields.pop("scope"))
    return store.apply_lab(actor, Lab(tenant_id=tenant_id, scope=scope, **fields))


class DecisionIn(RequestModel):
    action: Literal["qualify", "reject", "suspend", "reinstate", "revoke"]
    reason: str | None = Field(None, max_length=2000, description="required to reject, suspend or revoke")


@router.post("/labs/{lab_id}/decisions", response_model=Lab)
def decide(lab_id: Id, body: DecisionIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The regulator's decision on a lab's qualification (regulator only; an illegal move is a 409)."""
    require_regulator(actor, "decide on a lab's qualification")
    return store.decide_lab(actor, lab_id, LabDecision(**body.model_dump()))


@router.get("/labs/{lab_id}/events", response_model=list[LabEvent])
def events(lab_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A lab's qualification history (the regulator, the admin and the lab itself)."""
    return store.lab_events(actor, lab_id)


class PtPerformancePublic(BaseModel):
    round_id: int
    code: str
    closed_at: dt.datetime | None
    score_kind: str
    score: float | None
    evaluation: str | None
    flags: list[str]


class LabStandingPublic(BaseModel):
    lab: Lab
    latest_pt: PtPerformancePublic | None
    open_findings: dict[str, int]
    open_major_findings: int


@router.get("/supervision/labs", response_model=list[LabStandingPublic])
def directory(qualified_only: bool = False, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The lab directory with each lab's state, scope, latest proficiency result and open findings
    (pending applications only for the regulator, the admin and the applicant)."""
    return [LabStandingPublic(lab=s.lab, latest_pt=s.latest_pt, open_findings=s.open_findings,
                              open_major_findings=s.open_findings.get("major", 0))
            for s in sv.directory(store, actor, qualified_only=qualified_only)]


@router.get("/supervision/indicators")
def indicators(actor: Actor = Depends(get_actor), store: Store = Depends(get_store)) -> dict:
    """Labs by state, rounds, results by evaluation, flagged results, open findings (regulator, admin)."""
    return sv.supervision_indicators(store, actor)


# -- proficiency testing ----------------------------------------------------------------------


class RoundIn(RequestModel):
    code: str = Field(min_length=1, max_length=64, pattern=CODE)
    title: str = Field(min_length=1, max_length=256)
    quantity: str = Field(min_length=1, max_length=64)
    unit: UnitStr = "mm"
    artefact: str = Field(min_length=1, max_length=512)
    assigned_value: float = Field(ge=-BIG, le=BIG, description="x_pt")
    assigned_uncertainty: float = Field(ge=0, le=BIG, description="U(x_pt), expanded, k = 2")
    sigma_pt: float | None = Field(None, gt=0, le=BIG, description="needed for z scores")
    score_kind: ScoreKind = ScoreKind.EN
    deadline: dt.datetime


@router.post("/supervision/rounds", response_model=PtRound, status_code=201)
def publish_round(body: RoundIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The regulator publishes a proficiency-testing round (regulator only)."""
    require_regulator(actor, "publish a proficiency-testing round")
    _aware(body.deadline, "deadline")
    return store.add_round(actor, PtRound(**body.model_dump(), opened_at=dt.datetime.now(dt.UTC)))


@router.get("/supervision/rounds", response_model=list[PtRound])
def rounds(actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Rounds, newest first (labs: the assigned value once closed; enterprises: closed rounds)."""
    return store.list_rounds(actor)


class ResultPublic(PtResult):
    lab_code: str


class SummaryPublic(BaseModel):
    participants: int
    evaluations: dict[str, int]
    flags: dict[str, int]


class RoundPublic(BaseModel):
    round: PtRound
    results: list[ResultPublic]
    summary: SummaryPublic


def _round_public(view: dict) -> RoundPublic:
    return RoundPublic(round=view["round"], summary=SummaryPublic(**view["summary"]), results=[
        ResultPublic(**x["result"].model_dump(), lab_code=x["lab_code"]) for x in view["results"]])


@router.get("/supervision/rounds/{round_id}", response_model=RoundPublic)
def round_detail(round_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A round with the results the caller may see (regulator: all; a lab: its own) and its summary."""
    return _round_public(sv.round_view(store, actor, round_id))


class ResultIn(RequestModel):
    lab_id: int = Field(ge=1, le=MAX_ID, description="the submitting lab (of the caller's tenant)")
    value: float = Field(ge=-BIG, le=BIG)
    expanded_uncertainty: float = Field(gt=0, le=BIG)
    coverage_factor: float = Field(2.0, gt=0, le=20)


@router.post("/supervision/rounds/{round_id}/results", response_model=PtResult, status_code=201)
def submit(round_id: Id, body: ResultIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """A lab's result; submitting again before the deadline replaces it."""
    return store.submit_result(actor, round_id, body.lab_id, body.value, body.expanded_uncertainty,
                               body.coverage_factor)


@router.post("/supervision/rounds/{round_id}/close", response_model=RoundPublic)
def close(round_id: Id, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The regulator closes a round: every result is scored (E_n, zeta or z) and checked against
    the lab's CMC; each lab is told its score."""
    sv.close_round(store, actor, round_id)
    return _round_public(sv.round_view(store, actor, round_id))


# -- audit findings ---------------------------------------------------------------------------


class FindingIn(RequestModel):
    severity: FindingSeverity
    clause: str | None = Field(None, max_length=64, description="e.g. ISO/IEC 17025 7.6")
    description: str = Field(min_length=1, max_length=4000)
    due: dt.datetime | None = None


@router.post("/labs/{lab_id}/findings", response_model=AuditFinding, status_code=201)
def raise_finding(lab_id: Id, body: FindingIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The regulator raises an audit finding on a lab (regulator only)."""
    require_regulator(actor, "raise an audit finding")
    _aware(body.due, "due")
    return store.raise_finding(actor, AuditFinding(lab_id=lab_id, raised_at=dt.datetime.now(dt.UTC),
                                                   **body.model_dump()))


@router.get("/supervision/findings", response_model=list[AuditFinding])
def findings(lab_id: OptionalId = None, open_only: bool = False, limit: int = Query(500, ge=1, le=10_000),
             actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """Findings the caller may see (the regulator: all; a lab: its own; enterprises: none)."""
    return store.list_findings(actor, lab_id=lab_id, open_only=open_only)[:limit]


class AnswerIn(RequestModel):
    corrective_action: str = Field(min_length=1, max_length=4000)


class ReviewIn(RequestModel):
    note: str | None = Field(None, max_length=4000)


@router.post("/supervision/findings/{finding_id}/answer", response_model=AuditFinding)
def answer(finding_id: Id, body: AnswerIn, actor: Actor = Depends(get_actor), store: Store = Depends(get_store)):
    """The lab answers a finding with its corrective action."""
    return store.answer_finding(actor, finding_id, body.corrective_action)


@router.post("/supervision/findings/{finding_id}/close", response_model=AuditFinding)
def close_finding(finding_id: Id, body: ReviewIn, actor: Actor = Depends(get_actor),
                  store: Store = Depends(get_store)):
    """The regulator closes a finding (regulator only)."""
    return store.review_finding(actor, finding_id, close=True, note=body.note)


@router.post("/supervision/findings/{finding_id}/reopen", response_model=AuditFinding)
def reopen_finding(finding_id: Id, body: ReviewIn, actor: Actor = Depends(get_actor),
                   store: Store = Depends(get_store)):
    """The regulator reopens a finding, saying why (regulator only)."""
    return store.review_finding(actor, finding_id, close=False, note=body.note)
