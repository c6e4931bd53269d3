"""Lab supervision: qualification decisions, proficiency-testing rounds and results, audit findings.

The qualification of a lab moves through a small state machine (``QUALIFICATION_MOVES``); only the
regulator takes decisions. A rejected application ends in ``revoked`` (the event's action says
``reject``), so the four states of :class:`jingce.model.enums.QualificationState` suffice and a
rejected lab, like a revoked one, can never be qualified again under the same code.

References
----------
ISO/IEC 17011:2017 7.10-7.12 (granting, suspending, withdrawing accreditation);
ISO/IEC 17043:2023 (proficiency testing providers); ISO 13528:2022 9 (performance scores).
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import Field, model_validator

from jingce.errors import ConflictError
from jingce.model.base import Entity, Invariant, UtcDatetime
from jingce.model.enums import QualificationState
from jingce.model.units import UnitName


class LabAction(StrEnum):
    """What happens to a lab's qualification."""

    APPLY = "apply"
    QUALIFY = "qualify"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"


Q = QualificationState
QUALIFICATION_MOVES: dict[LabAction, tuple[frozenset[QualificationState], QualificationState]] = {
    LabAction.QUALIFY: (frozenset({Q.APPLIED}), Q.QUALIFIED),
    LabAction.REJECT: (frozenset({Q.APPLIED}), Q.REVOKED),
    LabAction.SUSPEND: (frozenset({Q.QUALIFIED}), Q.SUSPENDED),
    LabAction.REINSTATE: (frozenset({Q.SUSPENDED}), Q.QUALIFIED),
    LabAction.REVOKE: (frozenset({Q.QUALIFIED, Q.SUSPENDED}), Q.REVOKED),
}
"""Regulator's decisions: action -> (states it may be taken from, state it leads to)."""

REASON_REQUIRED = frozenset({LabAction.REJECT, LabAction.SUSPEND, LabAction.REVOKE})


def next_state(current: QualificationState | str, action: LabAction | str) -> QualificationState:
    """The state after ``action`` from ``current``; an illegal move is a :class:`ConflictError`
    naming the current state and the states the action may be taken from."""
    cur, act = QualificationState(current), LabAction(action)
    if act not in QUALIFICATION_MOVES:
        raise ConflictError(f"'{act.value}' is not a regulator's decision", field="action")
    sources, target = QUALIFICATION_MOVES[act]
    if cur not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise ConflictError(f"cannot {act.value} a lab that is {cur.value} (only from: {allowed})",
                            field="action", state=cur.value)
    return target


class LabDecision(Entity):
    """A regulator's decision on a lab: the action and (for reject, suspend, revoke) the reason."""

    action: LabAction
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason(self):
        if self.action is LabAction.APPLY:
            raise Invariant("action", "'apply' is the lab's application, not a decision")
        if self.action in REASON_REQUIRED and not (self.reason or "").strip():
            raise Invariant("reason", f"a reason is required to {self.action.value} a lab")
        return self


class LabEvent(Entity):
    """One step of a lab's qualification history."""

    id: int | None = None
    lab_id: int
    at: UtcDatetime
    action: str
    from_state: QualificationState | None = None
    to_state: QualificationState
    reason: str | None = None
    actor: str


class ScoreKind(StrEnum):
    """Performance statistic of a round (ISO 13528:2022 9.4, 9.6, 9.7)."""

    EN = "en"
    ZETA = "zeta"
    Z = "z"


class Evaluation(StrEnum):
    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"
    UNSATISFACTORY = "unsatisfactory"


class ResultFlag(StrEnum):
    UNCERTAINTY_BELOW_CMC = "uncertainty_below_cmc"  # U claimed below the lab's own CMC at that value
    OUTSIDE_SCOPE = "outside_scope"  # no scope line of the lab covers the quantity and value


def _finite(name: str, v: float | None) -> None:
    if v is not None and not math.isfinite(v):
        raise Invariant(name, "must be a finite number")


class PtRound(Entity):
    """A proficiency-testing round: an artefact circulated with an assigned value ``x_pt`` and its
    expanded uncertainty ``U(x_pt)`` (k = 2); ``sigma_pt`` is needed for z scores."""

    id: int | None = None
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    title: str = Field(min_length=1, max_length=256)
    quantity: str = Field(min_length=1, max_length=64)
    unit: UnitName = "mm"
    artefact: str = Field(min_length=1, max_length=512)
    assigned_value: float | None = None  # None: hidden (a lab's view of a round still open)
    assigned_uncertainty: float | None = Field(default=None, ge=0)
    sigma_pt: float | None = Field(default=None, gt=0)
    score_kind: ScoreKind = ScoreKind.EN
    status: str = "open"
    opened_at: UtcDatetime
    deadline: UtcDatetime
    closed_at: UtcDatetime | None = None
    created_by: str = "?"

    @model_validator(mode="after")
    def _consistent(self):
        _finite("assigned_value", self.assigned_value)
        _finite("assigned_uncertainty", self.assigned_uncertainty)
        _finite("sigma_pt", self.sigma_pt)
        if self.status not in ("open", "closed"):
            raise Invariant("status", "must be open or closed")
        if not self.deadline > self.opened_at:
            raise Invariant("deadline", "must be after the round opens")
        if self.score_kind is ScoreKind.Z and self.sigma_pt is None:
            raise Invariant("sigma_pt", "z scores need the standard deviation for proficiency assessment sigma_pt")
        return self


class PtResult(Entity):
    """A lab's result in a round: value and expanded uncertainty ``U = k u`` in the round's unit."""

    id: int | None = None
    round_id: int
    lab_id: int
    value: float
    expanded_uncertainty: float = Field(gt=0)
    coverage_factor: float = Field(default=2.0, gt=0, le=20)
    submitted_at: UtcDatetime
    score: float | None = None
    evaluation: Evaluation | None = None
    flags: tuple[ResultFlag, ...] = ()

    @model_validator(mode="after")
    def _finite_values(self):
        _finite("value", self.value)
        _finite("expanded_uncertainty", self.expanded_uncertainty)
        return self


class FindingSeverity(StrEnum):
    MAJOR = "major"
    MINOR = "minor"
    OBSERVATION = "observation"


class FindingStatus(StrEnum):
    OPEN = "open"  # raised (or reopened), waiting for the lab's corrective action
    ANSWERED = "answered"  # the lab described its corrective action; the regulator reviews it
    CLOSED = "closed"


class AuditFinding(Entity):
    """A finding of the regulator's assessment of a lab (ISO/IEC 17011 7.8 nonconformities)."""

    id: int | None = None
    lab_id: int
    raised_at: UtcDatetime
    severity: FindingSeverity
    clause: str | None = Field(default=None, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    due: UtcDatetime | None = None
    status: FindingStatus = FindingStatus.OPEN
    closure: str | None = None  # the lab's corrective action and its evidence
    answered_at: UtcDatetime | None = None
    answered_by: str | None = None
    review_note: str | None = None  # the regulator's note on closing or reopening
    closed_at: UtcDatetime | None = None
    raised_by: str = "?"
    closed_by: str | None = None

    @model_validator(mode="after")
    def _due(self):
        if self.due is not None and not self.due > self.raised_at:
            raise Invariant("due", "must be after the finding is raised")
        return self
