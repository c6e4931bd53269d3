"""Is this measurement fit for this tolerance? One verdict per characteristic, with its margins.

Each criterion that can be judged from what is given is compared with its limit; the verdict is the
worst of them: ``"fit"``, ``"conditionally fit"`` (AIAG's 10 % to 30 % band of %GRR: acceptable
depending on the application, the cost of the gauge and of repairs), ``"unfit"``, or
``"not assessed"`` when nothing was given. For every criterion the margin says by how much it is met
(positive) or missed (negative), in the criterion's own unit and relative to the limit.

==========================  ===============================  =====================================
criterion                   limit                            source
==========================  ===============================  =====================================
%GRR of tolerance           <= 10 % fit, <= 30 % conditional  AIAG MSA 4th ed., III-B
%GRR of study variation     <= 10 % fit, <= 30 % conditional  AIAG MSA 4th ed., III-B
ndc                         >= 5                              AIAG MSA 4th ed., III-B
Cg, Cgk                     >= 1.33                           Bosch booklet 10 / VDA 5
Q_MS                        <= 15 %                           ISO 22514-7, VDA 5
Q_MP                        <= 30 %                           ISO 22514-7, VDA 5
test uncertainty ratio      >= 4 (T / (2 U))                  ANSI/NCSL Z540.3 (2006), 5.3
==========================  ===============================  =====================================

References
----------
.. [1] AIAG MSA 4th ed. (2010), chapter II-D and III-B (acceptance of %GRR and ndc).
.. [2] ISO 22514-7:2012, 9 (limits of Q_MS and Q_MP).
.. [3] ANSI/NCSL Z540.3-2006, 5.3 (test uncertainty ratio of at least 4:1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_float

__all__ = ["FitnessCriterion", "FitnessResult", "measurement_fitness", "measurement_fitness_from"]

_ORDER = {"fit": 0, "conditionally fit": 1, "unfit": 2}


@dataclass(frozen=True, slots=True)
class FitnessCriterion:
    """One criterion: ``value`` against ``limit`` (``sense`` is ``"<="`` or ``">="``)."""

    name: str
    value: float
    limit: float
    sense: str
    conditional_limit: float | None
    verdict: str
    margin: float  # limit - value for "<=", value - limit for ">=": negative = missed by that much
    margin_relative_pct: float  # margin as a percentage of the limit


@dataclass(frozen=True, slots=True)
class FitnessResult:
    """Verdict of a measurement for one characteristic and the criterion that decided it."""

    verdict: str
    deciding: str | None
    criteria: tuple
    tolerance: float | None
    grr_allowed: float | None  # the largest GRR standard deviation meeting 10 % of the tolerance
    u_allowed: float | None  # the largest expanded uncertainty meeting the TUR limit


def _criterion(name, value, limit, sense, conditional=None) -> FitnessCriterion:
    if sense == "<=":
        margin = limit - value
        ok = value <= limit
        cond = conditional is not None and value <= conditional
    else:
        margin = value - limit
        ok = value >= limit
        cond = conditional is not None and value >= conditional
    verdict = "fit" if ok else ("conditionally fit" if cond else "unfit")
    rel = 100.0 * margin / limit if limit else float("nan")
    return FitnessCriterion(name, float(value), float(limit), sense, conditional, verdict, float(margin), float(rel))


def measurement_fitness(
    tolerance=None,
    *,
    pct_grr_tolerance=None,
    pct_grr_study=None,
    ndc=None,
    cg=None,
    cgk=None,
    q_ms=None,
    q_mp=None,
    expanded_uncertainty=None,
    grr_limit: float = 10.0,
    grr_conditional_limit: float = 30.0,
    ndc_limit: float = 5.0,
    cg_limit: float = 1.33,
    q_ms_limit: float = 15.0,
    q_mp_limit: float = 30.0,
    tur_limit: float = 4.0,
) -> FitnessResult:
    """Fitness verdict of a measurement for a characteristic's tolerance.

    Parameters
    ----------
    tolerance : float, optional
        Tolerance width; needed for the test uncertainty ratio and the allowed GRR.
    pct_grr_tolerance, pct_grr_study : float, optional
        %GRR against the tolerance and against the total (study) variation.
    ndc : float, optional
        Number of distinct categories.
    cg, cgk : float, optional
        Type-1 indices.
    q_ms, q_mp : float, optional
        Capability ratios in percent (ISO 22514-7).
    expanded_uncertainty : float, optional
        Expanded uncertainty ``U`` of the measurement (k = 2): ``TUR = T / (2 U)``.
    grr_limit, grr_conditional_limit, ndc_limit, cg_limit, q_ms_limit, q_mp_limit, tur_limit : float
        The limits (defaults in the module docstring).

    Returns
    -------
    FitnessResult

    References
    ----------
    AIAG MSA 4th ed.; ISO 22514-7:2012, 9; ANSI/NCSL Z540.3-2006, 5.3.
    """
    tol = as_float(tolerance, "tolerance", positive=True, allow_none=True)
    vals = {
        name: as_float(v, name, allow_none=True)
        for name, v in dict(pct_grr_tolerance=pct_grr_tolerance, pct_grr_study=pct_grr_study, ndc=ndc, cg=cg,
                            cgk=cgk, q_ms=q_ms, q_mp=q_mp).items()
    }
    u = as_float(expanded_uncertainty, "expanded_uncertainty", positive=True, allow_none=True)
    lim = {n: as_float(v, n, positive=True) for n, v in dict(
        grr_limit=grr_limit, grr_conditional_limit=grr_conditional_limit, ndc_limit=ndc_limit, cg_limit=cg_limit,
        q_ms_limit=q_ms_limit, q_mp_limit=q_mp_limit, tur_limit=tur_limit).items()}
    crit = []
    if vals["pct_grr_tolerance"] is not None:
        crit.append(_criterion("%GRR of tolerance", vals["pct_grr_tolerance"], lim["grr_limit"], "<=",
                               lim["grr_conditional_limit"]))
    if vals["pct_grr_study"] is not None:
        crit.append(_criterion("%GRR of study variation", vals["pct_grr_study"], lim["grr_limit"], "<=",
                               lim["grr_conditional_limit"]))
    if vals["ndc"] is not None:
        crit.append(_criterion("ndc", vals["ndc"], lim["ndc_limit"], ">="))
    if vals["cg"] is not None and np.isfinite(vals["cg"]):
        crit.append(_criterion("Cg", vals["cg"], lim["cg_limit"], ">="))
    if vals["cgk"] is not None:
        crit.append(_criterion("Cgk", vals["cgk"], lim["cg_limit"], ">="))
    if vals["q_ms"] is not None:
        crit.append(_criterion("Q_MS", vals["q_ms"], lim["q_ms_limit"], "<="))
    if vals["q_mp"] is not None:
        crit.append(_criterion("Q_MP", vals["q_mp"], lim["q_mp_limit"], "<="))
    if u is not None:
        if tol is None:
            from jingce.kernels._validation import fail

            raise fail("tolerance", "is required with expanded_uncertainty (TUR = T / (2 U))")
        crit.append(_criterion("TUR", tol / (2.0 * u), lim["tur_limit"], ">="))
    if not crit:
        return FitnessResult("not assessed", None, (), tol, None, None)
    worst = max(crit, key=lambda c: (_ORDER[c.verdict], -c.margin_relative_pct))
    return FitnessResult(
        verdict=worst.verdict,
        deciding=worst.name,
        criteria=tuple(crit),
        tolerance=tol,
        grr_allowed=lim["grr_limit"] / 100.0 * tol / 6.0 if tol else None,
        u_allowed=tol / (2.0 * lim["tur_limit"]) if tol else None,
    )


def measurement_fitness_from(tolerance=None, *, grr=None, type1=None, capability=None, expanded_uncertainty=None,
                             **limits) -> FitnessResult:
    """:func:`measurement_fitness` from study results.

    Parameters
    ----------
    tolerance : float, optional
        Tolerance width; taken from ``capability`` or ``type1`` when not given.
    grr : GrrResult, optional
        Gives %GRR of tolerance (when it had a tolerance), %GRR of study variation and ndc.
    type1 : Type1Result, optional
        Gives Cg and Cgk.
    capability : MeasurementProcessCapability, optional
        Gives Q_MS and Q_MP (and, without ``expanded_uncertainty``, ``U_MP`` for the TUR).
    expanded_uncertainty : float, optional
        Expanded uncertainty of the measurement for the TUR.
    **limits
        Limits passed on to :func:`measurement_fitness`.

    Returns
    -------
    FitnessResult
    """
    if tolerance is None:
        if capability is not None:
            tolerance = capability.tolerance
        elif type1 is not None and np.isfinite(type1.tolerance):
            tolerance = type1.tolerance
        elif grr is not None and grr.tolerance:
            tolerance = grr.tolerance
    kw: dict = {}
    if grr is not None:
        if grr.pct_tolerance:
            kw["pct_grr_tolerance"] = grr.pct_tolerance["grr"]
        kw["pct_grr_study"] = grr.pct_study_variation["grr"]
        kw["ndc"] = grr.ndc
    if type1 is not None:
        kw["cg"], kw["cgk"] = type1.cg, type1.cgk
    if capability is not None:
        kw["q_ms"], kw["q_mp"] = capability.q_ms, capability.q_mp
        if expanded_uncertainty is None:
            expanded_uncertainty = capability.expanded_mp
    return measurement_fitness(tolerance, expanded_uncertainty=expanded_uncertainty, **kw, **limits)
