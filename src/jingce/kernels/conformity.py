"""Conformity decisions with measurement uncertainty: decision rules and risks.

References
----------
.. [1] ILAC-G8:09/2019, Guidelines on Decision Rules and Statements of Conformity, 4.2
       (simple acceptance, w = 0), 4.2.2-4.2.3 (guarded acceptance and guarded rejection,
       guard band w = r U), 4.2.4 (non-binary statements: pass / conditional pass /
       conditional fail / fail).
.. [2] ISO 14253-1:2017, Geometrical product specifications (GPS) - Inspection by measurement of
       workpieces and measuring equipment - Part 1: Decision rules for verifying conformity or
       nonconformity with specifications, 5.2-5.3 (conformity zone reduced by U, nonconformity
       zone extended by U, ambiguity in between).
.. [3] JCGM 106:2012, Evaluation of measurement data - The role of measurement uncertainty in
       conformity assessment: 7.2-7.3 eqs. (9)-(12) (probability of conformity for a Gaussian
       measurand, one- and two-sided tolerance intervals), 8 (acceptance intervals, guard bands),
       9.5 eqs. (21)-(24) (global consumer's and producer's risks for a Gaussian process).
.. [4] D. Deaver, "Guardbanding with confidence", NCSL Workshop & Symposium (1994): tabulated
       false accept / false reject probabilities used as reference values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate, special, stats

from jingce.kernels._validation import as_array, as_float, as_probability, fail, one_of, warn

__all__ = [
    "ConformityProbability",
    "Decision",
    "GlobalRisk",
    "probability_of_conformity",
    "decide",
    "global_risk",
    "guard_band_for_risk",
    "RULES",
]

RULES = ("simple", "guarded_acceptance", "guarded_rejection", "iso14253", "non_binary")


def _limits_iv(lower: Any, upper: Any) -> tuple[float, float]:
    lo = as_float(lower, "lower", allow_none=True)
    hi = as_float(upper, "upper", allow_none=True)
    if lo is None and hi is None:
        raise fail("lower/upper", "need at least one tolerance limit")
    if lo is not None and hi is not None and not lo < hi:
        raise fail("lower", f"must be < upper, got lower={lo} >= upper={hi}")
    return (-np.inf if lo is None else lo), (np.inf if hi is None else hi)


def _positive_array(x: Any, argument: str) -> np.ndarray:
    arr = as_array(x, argument)
    if np.any(arr <= 0):
        raise fail(argument, "must be > 0 (a standard or expanded uncertainty)")
    return arr


@dataclass(frozen=True, slots=True)
class ConformityProbability:
    """Specific conformity probability ``p_c`` and specific risk ``1 - p_c`` (JCGM 106 7.3)."""

    p_conformity: Any
    specific_risk: Any
    lower: float
    upper: float


def _probability_of_conformity_iv(y: Any, u: Any, lower: Any, upper: Any, dof: Any):
    yy = as_array(y, "y")
    uu = _positive_array(u, "u")
    try:
        np.broadcast_shapes(yy.shape, uu.shape)
    except ValueError:
        raise fail("u", "must broadcast against y") from None
    lo, hi = _limits_iv(lower, upper)
    nu = None if dof is None else as_float(dof, "dof", positive=True)
    return yy, uu, lo, hi, nu


def probability_of_conformity(y: Any, u: Any, lower: Any = None, upper: Any = None, dof: Any = None
                              ) -> ConformityProbability:
    """Probability that the measurand lies within the tolerance interval, given the measured
    value ``y`` with standard uncertainty ``u``.

    ``p_c = Phi((T_U - y)/u) - Phi((T_L - y)/u)`` for a Gaussian PDF of the measurand
    (JCGM 106 7.3, eqs. 9-12); a scaled and shifted t PDF with ``dof`` degrees of freedom when given.

    Parameters
    ----------
    y, u : float or array
        Measured values and standard uncertainties (> 0); broadcast together.
    lower, upper : float, optional
        Tolerance limits ``T_L``, ``T_U``; one may be omitted (one-sided tolerance interval).
    dof : float, optional

    References
    ----------
    JCGM 106:2012 7.2, 7.3.
    """
    yy, uu, lo, hi, nu = _probability_of_conformity_iv(y, u, lower, upper, dof)
    # the risk as the sum of the two tails, so a small risk keeps its digits (1 - p_c would not)
    if nu is None:
        risk = special.ndtr((lo - yy) / uu) + special.ndtr((yy - hi) / uu)
    else:
        risk = stats.t.cdf((lo - yy) / uu, nu) + stats.t.sf((hi - yy) / uu, nu)
    risk = float(risk) if np.ndim(risk) == 0 else risk
    return ConformityProbability(1.0 - risk, risk, lo, hi)


@dataclass(frozen=True, slots=True)
class Decision:
    """Decisions for measured values under one decision rule.

    Attributes
    ----------
    rule : str
    decision : ndarray of str
        ``accept`` / ``reject`` for the binary rules; ``pass`` / ``conditional_pass`` /
        ``conditional_fail`` / ``fail`` for ``non_binary``; ``conforms`` / ``does_not_conform`` /
        ``ambiguous`` for ``iso14253``.
    acceptance_lower, acceptance_upper : float or ndarray
        Acceptance limits ``A_L = T_L + w``, ``A_U = T_U - w``.
    guard_band : float or ndarray
        ``w``.
    p_conformity : ndarray
        JCGM 106 probability of conformity of each value (with ``u = U / k``).
    """

    rule: str
    decision: np.ndarray
    acceptance_lower: Any
    acceptance_upper: Any
    guard_band: Any
    p_conformity: np.ndarray


def _decide_iv(y: Any, U: Any, lower: Any, upper: Any, rule: Any, guard_band_factor: Any, k: Any):
    yy = as_array(y, "y")
    big_u = _positive_array(U, "U")
    try:
        np.broadcast_shapes(yy.shape, big_u.shape)
    except ValueError:
        raise fail("U", "must broadcast against y") from None
    lo, hi = _limits_iv(lower, upper)
    r = one_of(rule, "rule", RULES)
    factor = as_float(guard_band_factor, "guard_band_factor", nonnegative=True)
    kk = as_float(k, "k", positive=True)
    return yy, big_u, lo, hi, r, factor, kk


def decide(y: Any, U: Any, lower: Any = None, upper: Any = None, rule: str = "simple",
           guard_band_factor: float = 1.0, k: float = 2.0) -> Decision:
    """Apply a decision rule to measured values ``y`` with expanded uncertainty ``U``.

    Rules (ILAC-G8:2019 4.2, ISO 14253-1:2017 5):

    - ``simple``: accept when ``T_L <= y <= T_U`` (w = 0, shared risk).
    - ``guarded_acceptance``: accept when ``T_L + w <= y <= T_U - w`` with ``w = r U``.
    - ``guarded_rejection``: reject only when ``y < T_L - w`` or ``y > T_U + w``.
    - ``iso14253``: conformity proven inside the tolerance zone reduced by ``U``, nonconformity
      proven outside it extended by ``U``, ambiguous in between.
    - ``non_binary``: ILAC-G8 4.2.4 pass / conditional pass / conditional fail / fail.

    Parameters
    ----------
    y, U : float or array
    lower, upper : float, optional
        Tolerance limits (one may be omitted).
    rule : str
    guard_band_factor : float
        ``r`` in ``w = r U`` for the guarded rules (ILAC-G8: w = U, i.e. r = 1, by default).
    k : float
        Coverage factor of ``U``, used for the probability of conformity.

    References
    ----------
    ILAC-G8:09/2019 4.2; ISO 14253-1:2017 5.2, 5.3; JCGM 106:2012 8.3.
    """
    yy, big_u, lo, hi, r, factor, kk = _decide_iv(y, U, lower, upper, rule, guard_band_factor, k)
    yy, big_u = np.broadcast_arrays(yy, big_u)
    if r == "simple":
        w = np.zeros_like(big_u)
    elif r == "guarded_acceptance":
        w = factor * big_u
    elif r == "guarded_rejection":
        w = -factor * big_u
    else:
        w = big_u
    a_lo = lo + w
    a_hi = hi - w
    inside = (yy >= lo) & (yy <= hi)
    if r in ("simple", "guarded_acceptance", "guarded_rejection"):
        if np.any(a_lo > a_hi):
            warn("the guard bands close the acceptance interval: every value is rejected")
        dec = np.where((yy >= a_lo) & (yy <= a_hi), "accept", "reject")
    elif r == "iso14253":
        proven_in = (yy >= lo + big_u) & (yy <= hi - big_u)
        proven_out = (yy < lo - big_u) | (yy > hi + big_u)
        dec = np.where(proven_in, "conforms", np.where(proven_out, "does_not_conform", "ambiguous"))
    else:  # non_binary, ILAC-G8 4.2.4 / Figure 4
        clear_in = (yy - big_u >= lo) & (yy + big_u <= hi)
        clear_out = (yy + big_u < lo) | (yy - big_u > hi)
        dec = np.where(clear_in, "pass", np.where(clear_out, "fail",
                                                  np.where(inside, "conditional_pass", "conditional_fail")))
    pc = stats.norm.cdf((hi - yy) / (big_u / kk)) - stats.norm.cdf((lo - yy) / (big_u / kk))
    scal = (lambda a: float(a)) if np.ndim(a_lo) == 0 else (lambda a: a)
    return Decision(r, np.asarray(dec), scal(a_lo), scal(a_hi), scal(w), np.asarray(pc))


def guard_band_for_risk(u: Any, specific_risk: float = 0.05, lower: Any = None, upper: Any = None) -> float:
    """Guard band ``w`` such that a measured value at the acceptance limit has the given specific
    risk (JCGM 106 8.3.3): ``w = z_{1-alpha} u`` for a one-sided limit; for two limits the value
    that keeps ``p_c >= 1 - alpha`` at both acceptance limits (solved numerically).

    References
    ----------
    JCGM 106:2012 8.3.2, 8.3.3 (e.g. w = 1.64 u for alpha = 5 %).
    """
    uu = as_float(u, "u", positive=True)
    alpha = as_probability(specific_risk, "specific_risk")
    lo, hi = _limits_iv(lower, upper)
    z = float(stats.norm.ppf(1 - alpha))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return z * uu

    def excess(w: float) -> float:
        yv = lo + w
        return float(stats.norm.cdf((hi - yv) / uu) - stats.norm.cdf((lo - yv) / uu)) - (1 - alpha)

    half = (hi - lo) / 2
    if excess(half) < 0:
        raise fail("u", "is too large for the tolerance interval: no acceptance interval reaches the target risk")
    from scipy.optimize import brentq

    return float(brentq(excess, 0.0, half, xtol=1e-14 * max(1.0, half)))


@dataclass(frozen=True, slots=True)
class GlobalRisk:
    """Global risks of a conformity decision for a Gaussian process (JCGM 106 9.5).

    Attributes
    ----------
    consumer_risk : float
        ``R_C``: probability that an item is accepted although not conforming (false accept).
    producer_risk : float
        ``R_P``: probability that a conforming item is rejected (false reject).
    prior_conformity : float
        Probability that an item from the process conforms.
    acceptance_probability : float
        Probability that an item is accepted.
    acceptance_lower, acceptance_upper : float
        Acceptance limits ``A_L = T_L + w``, ``A_U = T_U - w``.
    """

    consumer_risk: float
    producer_risk: float
    prior_conformity: float
    acceptance_probability: float
    acceptance_lower: float
    acceptance_upper: float


def _global_risk_iv(prior_mean: Any, prior_sd: Any, u: Any, lower: Any, upper: Any, guard_band: Any):
    y0 = as_float(prior_mean, "prior_mean")
    s0 = as_float(prior_sd, "prior_sd", positive=True)
    um = as_float(u, "u", positive=True)
    lo, hi = _limits_iv(lower, upper)
    w = as_float(guard_band, "guard_band")
    a_lo, a_hi = lo + w, hi - w
    if a_lo >= a_hi:
        raise fail("guard_band", f"closes the acceptance interval (A_L={a_lo} >= A_U={a_hi})")
    return y0, s0, um, lo, hi, a_lo, a_hi


def global_risk(prior_mean: float, prior_sd: float, u: float, lower: Any = None, upper: Any = None,
                guard_band: float = 0.0) -> GlobalRisk:
    """Global consumer's and producer's risks for a Gaussian process prior ``N(y0, u0^2)`` and a
    Gaussian measuring system with standard uncertainty ``u`` (JCGM 106 9.5.2, eqs. 21-24).

    ``R_C = integral over the non-conforming values eta of g0(eta) P(accept | eta) d eta`` and
    ``R_P = integral over the tolerance interval of g0(eta) P(reject | eta) d eta`` with
    ``P(accept | eta) = Phi((A_U - eta)/u) - Phi((A_L - eta)/u)``; the one-dimensional integrals
    are evaluated by adaptive quadrature (scipy.integrate.quad) split at the limits.

    Parameters
    ----------
    prior_mean, prior_sd : float
        The process (prior) distribution of the measurand.
    u : float
        Standard measurement uncertainty.
    lower, upper : float, optional
        Tolerance limits (one may be omitted).
    guard_band : float
        ``w``: acceptance limits ``T_L + w`` and ``T_U - w`` (negative for guarded rejection).

    References
    ----------
    JCGM 106:2012 9.5; ILAC-G8:2019 4.2.
    """
    y0, s0, um, lo, hi, a_lo, a_hi = _global_risk_iv(prior_mean, prior_sd, u, lower, upper, guard_band)

    # scalar math functions: quad calls these hundreds of times (scipy.stats per call is ~100x slower)
    norm_c = 1.0 / (s0 * math.sqrt(2 * math.pi))

    def phi(z: float) -> float:
        return 0.5 * math.erfc(-z / math.sqrt(2))

    def prior(eta: float) -> float:
        z = (eta - y0) / s0
        return norm_c * math.exp(-0.5 * z * z)

    def p_accept(eta: float) -> float:
        return phi((a_hi - eta) / um) - phi((a_lo - eta) / um)

    span = 12 * max(s0, um)
    left, right = min(y0, lo if np.isfinite(lo) else y0) - span, max(y0, hi if np.isfinite(hi) else y0) + span

    def integrate_piecewise(f, a: float, b: float) -> float:
        if not a < b:
            return 0.0
        pts = sorted({p for p in (lo, hi, a_lo, a_hi, y0) if np.isfinite(p) and a < p < b})
        val, _ = integrate.quad(f, a, b, points=pts or None, limit=200, epsabs=1e-14, epsrel=1e-11)
        return val

    lo_c = max(lo, left)
    hi_c = min(hi, right)
    in_tol = stats.norm.cdf((hi - y0) / s0) - stats.norm.cdf((lo - y0) / s0)
    reject_given_conforming = integrate_piecewise(lambda e: prior(e) * (1 - p_accept(e)), lo_c, hi_c)
    accept_nonconforming = 0.0
    if np.isfinite(lo):
        accept_nonconforming += integrate_piecewise(lambda e: prior(e) * p_accept(e), left, lo)
    if np.isfinite(hi):
        accept_nonconforming += integrate_piecewise(lambda e: prior(e) * p_accept(e), hi, right)
    accepted = float(stats.norm.cdf((a_hi - y0) / np.hypot(s0, um)) - stats.norm.cdf((a_lo - y0) / np.hypot(s0, um)))
    return GlobalRisk(float(accept_nonconforming), float(reject_given_conforming), float(in_tol), accepted,
                      float(a_lo), float(a_hi))
