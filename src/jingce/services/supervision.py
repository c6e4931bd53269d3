"""Lab supervision use cases: scoring proficiency-testing rounds, the lab directory, the
regulator's supervision indicators.

Scoring a round (ISO 13528:2022 9; ISO/IEC 17043:2023 7.4) uses the ``proficiency`` kernel:

- ``en``: ``E_n = (x - x_pt) / sqrt(U(x)^2 + U(x_pt)^2)`` with the lab's expanded uncertainty as
  reported and the round's ``U(x_pt)`` (k = 2); ``|E_n| <= 1`` satisfactory, else unsatisfactory;
- ``zeta``: ``(x - x_pt) / sqrt(u(x)^2 + u(x_pt)^2)`` with ``u(x) = U / k`` and
  ``u(x_pt) = U(x_pt) / 2``; ``|zeta| <= 2`` satisfactory, ``< 3`` questionable, else unsatisfactory;
- ``z``: ``(x - x_pt) / sigma_pt``, classified like zeta.

Each result is also checked against the lab's own scope: a scope line of the round's quantity
whose range (after unit conversion) covers the reported value gives the lab's claimed CMC there
(an expanded uncertainty at about 95 %, ILAC-P14); a result whose uncertainty, brought to k = 2
(``2 U / k``), is below the smallest such CMC is flagged ``uncertainty_below_cmc`` (the lab claims
better than it is accredited for); no covering line flags ``outside_scope``.
"""

from __future__ import annotations

import math

from jingce.errors import InvalidInputError, PermissionDeniedError
from jingce.kernels import proficiency as pt
from jingce.model import QualificationState, ScopeEntry
from jingce.model.supervision import Evaluation, FindingSeverity, PtResult, PtRound, ResultFlag, ScoreKind
from jingce.model.units import conversion_factor
from jingce.store import Actor, Store

CMC_RTOL = 1e-9
"""Relative tolerance of the CMC comparison (a U equal to the CMC up to rounding is not flagged)."""


def _factor(src: str, dst: str) -> float | None:
    if src == dst:
        return 1.0
    try:
        return conversion_factor(src, dst)
    except InvalidInputError:  # incompatible or offset units: this scope line does not cover it
        return None


def cmc_flags(pt_round: PtRound, value: float, expanded_uncertainty: float, coverage_factor: float,
              scope: tuple[ScopeEntry, ...]) -> tuple[ResultFlag, ...]:
    """``outside_scope`` when no line of ``scope`` covers the round's quantity at ``value``;
    ``uncertainty_below_cmc`` when ``2 U / k`` is below the smallest CMC claimed at ``value``."""
    cmcs = []
    for line in scope:
        if line.quantity != pt_round.quantity:
            continue
        to_line, back = _factor(pt_round.unit, line.unit), _factor(line.unit, pt_round.unit)
        if to_line is None or back is None:
            continue
        x = value * to_line
        if line.range_min <= x <= line.range_max:
            cmcs.append(line.cmc_at(x) * back)
    if not cmcs:
        return (ResultFlag.OUTSIDE_SCOPE,)
    u95 = 2.0 * expanded_uncertainty / coverage_factor
    if u95 < min(cmcs) * (1 - CMC_RTOL):
        return (ResultFlag.UNCERTAINTY_BELOW_CMC,)
    return ()


def score_result(pt_round: PtRound, result: PtResult) -> tuple[float, Evaluation]:
    """The score of one result and its classification (ISO 13528:2022 9.4, 9.6, 9.7)."""
    x_pt, big_u_pt = pt_round.assigned_value, pt_round.assigned_uncertainty
    if x_pt is None or big_u_pt is None:
        raise InvalidInputError("a round is scored against its assigned value", field="assigned_value")
    kind = pt_round.score_kind
    # The kernel's score functions refuse a negative x_pt (they check it like an uncertainty), but
    # assigned values may be negative (a deviation, a temperature): the scores depend on x - x_pt
    # only, so the kernel gets the deviation and x_pt = 0 (the same arithmetic, bit for bit).
    d = result.value - x_pt
    if kind is ScoreKind.EN:
        score = pt.en_score(d, result.expanded_uncertainty, 0.0, big_u_pt)
    elif kind is ScoreKind.ZETA:
        score = pt.zeta_score(d, result.expanded_uncertainty / result.coverage_factor, 0.0, big_u_pt / 2.0)
    else:
        if pt_round.sigma_pt is None:
            raise InvalidInputError("z scores need sigma_pt", field="sigma_pt")
        score = pt.z_score(d, 0.0, pt_round.sigma_pt)
    score = float(score)
    return score, Evaluation(str(pt.classify(score, kind.value)))


def score_round(pt_round: PtRound, results: list[PtResult], scopes: dict[int, tuple[ScopeEntry, ...]]
                ) -> list[tuple[float, str, tuple[str, ...]]]:
    """Score every result of a round and check it against its lab's scope (the store's ``Scorer``)."""
    out = []
    for r in results:
        score, evaluation = score_result(pt_round, r)
        flags = cmc_flags(pt_round, r.value, r.expanded_uncertainty, r.coverage_factor, scopes.get(r.lab_id, ()))
        out.append((score if math.isfinite(score) else None, evaluation.value, tuple(f.value for f in flags)))
    return out


def close_round(store: Store, actor: Actor, round_id: int) -> tuple[PtRound, list[PtResult]]:
    """The regulator closes a round: every result is scored and checked, each lab is told."""
    return store.close_round(actor, round_id, score_round)


def round_view(store: Store, actor: Actor, round_id: int) -> dict:
    """A round as the actor may see it: the round, the results it may see (with lab codes), the
    published summary, and the chart's series (score per lab and the satisfactory band)."""
    rnd = store.get_round(actor, round_id)
    results = store.round_results(actor, round_id)
    codes = {lab.id: lab.code for lab in store.list_labs(actor)}
    rows = [{"result": r, "lab_code": codes.get(r.lab_id, f"#{r.lab_id}")} for r in results]
    band = 1.0 if rnd.score_kind is ScoreKind.EN else 2.0
    chart = {"kind": rnd.score_kind.value, "band": band, "action": None if band == 1.0 else 3.0,
             "labs": [x["lab_code"] for x in rows if x["result"].score is not None],
             "scores": [x["result"].score for x in rows if x["result"].score is not None],
             "evaluations": [x["result"].evaluation.value for x in rows if x["result"].score is not None]}
    return {"round": rnd, "results": rows, "summary": store.round_summary(actor, round_id), "chart": chart}


def directory(store: Store, actor: Actor, *, qualified_only: bool = False) -> list:
    """The lab directory as the actor may see it (applications only by the regulator, the admin
    and the applicant), national and provincial institutes first; ``qualified_only`` keeps the
    labs an enterprise may order from."""
    rows = store.lab_directory(actor)
    if qualified_only:
        rows = [s for s in rows if s.lab.qualification is QualificationState.QUALIFIED]
    order = {"national": 0, "provincial": 1}
    return sorted(rows, key=lambda s: (order.get(s.lab.level.value, 2), s.lab.code))


def supervision_indicators(store: Store, actor: Actor) -> dict:
    """Counts for the regulator's region view: labs by qualification state, rounds by status,
    results by evaluation, flagged results, open findings by severity (every key present, zeros
    included). The regulator and the admin only."""
    if not (actor.is_admin or actor.is_regulator):
        raise PermissionDeniedError("only the regulator sees the supervision indicators", field="role")
    c = store.supervision_counts(actor)
    labs = {s.value: c["labs"].get(s.value, 0) for s in QualificationState}
    rounds = {s: c["rounds"].get(s, 0) for s in ("open", "closed")}
    results = {e.value: c["results"].get(e.value, 0) for e in Evaluation} | {"unscored": c["results"].get("unscored", 0)}
    flags = {f.value: c["flags"].get(f.value, 0) for f in ResultFlag}
    findings = {s.value: c["open_findings"].get(s.value, 0) for s in FindingSeverity}
    return {"labs": labs, "labs_total": sum(labs.values()), "pending_applications": labs["applied"],
            "rounds": rounds, "results": results, "results_total": sum(results.values()),
            "flagged_results": flags, "open_findings": findings, "answered_findings": c["answered_findings"]}
