"""Calibration interval analysis from in-tolerance / out-of-tolerance history.

Method A3 (interval test) tests whether the observed end-of-period reliability of the current
interval is consistent with the reliability target and, when it is not, extrapolates a new
interval. Method S2 (binomial method) fits a reliability model ``R(t)`` to the observed
in-tolerance proportions by maximum likelihood and solves ``R(I) = R_target`` for the interval.

References
----------
.. [1] NCSL International, Recommended Practice RP-1, "Establishment and Adjustment of
       Calibration Intervals" (2010): Method A3 (interval test method, chapter 5 / Appendix C),
       Method S2 (binomial method, chapter 6 / Appendix D: exponential, Weibull and random walk
       reliability models, maximum likelihood fit).
.. [2] NCSL International 2019 Workshop & Symposium tutorial on calibration intervals: three
       assets with 20 calibrations each, used as the reference cases of Method A3 here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from jingce.kernels._validation import as_array, as_float, as_int, as_probability, fail, one_of, warn

__all__ = ["A3Result", "S2Result", "a3_interval_test", "s2_reliability_fit", "reliability", "MODELS"]

MODELS = ("exponential", "weibull", "random_walk")


@dataclass(frozen=True, slots=True)
class A3Result:
    """Result of the interval test (Method A3).

    Attributes
    ----------
    interval : recommended interval (the current one unless the test rejects it)
    calculated_interval : extrapolated interval before the acceptance decision
    rejection_confidence : confidence with which the current interval is rejected
    observed_reliability : in-tolerance proportion ``g / n``
    reliability_lower, reliability_upper : binomial (Clopper-Pearson) confidence limits of the
        reliability at ``confidence``
    changed : whether the interval was changed
    """

    interval: float
    calculated_interval: float
    rejection_confidence: float
    observed_reliability: float
    reliability_lower: float
    reliability_upper: float
    in_tolerance: int
    n: int
    changed: bool


def _a3_iv(in_tolerance, n, current_interval, target_reliability, confidence, max_change, min_change,
           min_interval, max_interval):
    nn = as_int(n, "n", lo=1)
    g = as_int(in_tolerance, "in_tolerance", lo=0, hi=nn)
    i0 = as_float(current_interval, "current_interval", positive=True)
    rt = as_probability(target_reliability, "target_reliability")
    conf = as_probability(confidence, "confidence")
    mc = as_float(max_change, "max_change", lo=1.0)
    md = as_float(min_change, "min_change", nonnegative=True)
    lo = as_float(min_interval, "min_interval", nonnegative=True)
    hi = as_float(max_interval, "max_interval", positive=True, allow_none=True)
    if hi is not None and hi < lo:
        raise fail("max_interval", "must be >= min_interval")
    return g, nn, i0, rt, conf, mc, md, lo, hi


def a3_interval_test(in_tolerance: int, n: int, current_interval: float, target_reliability: float, *,
                     confidence: float = 0.5, max_change: float = 2.0, min_change: float = 0.0,
                     min_interval: float = 0.0, max_interval: float | None = None) -> A3Result:
    """Method A3 of NCSLI RP-1: test the current interval and adjust it.

    The rejection confidence ``Q`` is the confidence that the true reliability differs from the
    target: ``Q = 1 - 2 P(X <= g)`` when ``g/n < R_t`` and ``Q = 1 - 2 P(X >= g)`` when
    ``g/n > R_t`` for ``X ~ Bin(n, R_t)`` (one-sided ``1 - R_t^n`` or ``1 - (1 - R_t)^n`` when all or
    none of the calibrations were in tolerance). The extrapolated interval is
    ``I0 10^((R0 - R_t) Q)`` for a low reliability (at least ``I0 / max_change``) and
    ``I0 10^((R0 - R_t) / (1 - Q))`` for a high one (at most ``I0 max_change``); it is adopted when
    ``Q > confidence`` and it differs from ``I0`` by at least ``min_change``.

    Parameters
    ----------
    in_tolerance, n : int
        Calibrations found in tolerance, and all calibrations, at the current interval.
    current_interval : float
        ``I0`` (days or any time unit).
    target_reliability : float
        End-of-period reliability target ``R_t``.
    confidence : float
        Confidence needed to change the interval; also the level of the reliability limits.
    max_change, min_change, min_interval, max_interval : float
        Limits on the adjustment.

    References
    ----------
    NCSLI RP-1 (2010) Method A3.
    """
    g, n, i0, rt, conf, mc, md, lo, hi = _a3_iv(in_tolerance, n, current_interval, target_reliability,
                                                 confidence, max_change, min_change, min_interval, max_interval)
    r0 = g / n
    binom = stats.binom(n, rt)
    if g == n:
        q = 1 - rt**n
    elif g == 0:
        q = 1 - (1 - rt) ** n
    elif r0 < rt:
        q = 1 - 2 * float(binom.cdf(g))
    elif r0 > rt:
        q = 1 - 2 * float(binom.sf(g - 1))
    else:
        q = 0.0
    q = max(q, 0.0)
    if r0 < rt:
        factor = max(10 ** ((r0 - rt) * q), 1 / mc)
    elif r0 > rt:
        exponent = math.inf if q >= 1 else (r0 - rt) / (1 - q)
        factor = mc if exponent >= math.log10(mc) else 10**exponent
    else:
        factor = 1.0
    calc = i0 * factor
    changed = q > conf and abs(calc - i0) >= md
    new = calc if changed else i0
    new = max(new, lo)
    if hi is not None:
        new = min(new, hi)
    alpha = (1 - conf) / 2
    r_lo = 0.0 if g == 0 else float(stats.beta.ppf(alpha, g, n - g + 1))
    r_hi = 1.0 if g == n else float(stats.beta.ppf(1 - alpha, g + 1, n - g))
    return A3Result(float(new), float(calc), float(q), r0, r_lo, r_hi, g, n, bool(changed))


def reliability(model: str, t: Any, params: Any) -> np.ndarray:
    """Reliability models of RP-1 Appendix D.

    - ``exponential``: ``R(t) = exp(-theta1 t)``
    - ``weibull``: ``R(t) = exp(-(theta1 t)^theta2)``
    - ``random_walk``: ``R(t) = erf(Q / sqrt 2) = 2 Phi(Q) - 1``, ``Q = 1 / sqrt(theta1 + theta2 t)``
    """
    m = one_of(model, "model", MODELS)
    tt = np.asarray(t, dtype=float)
    p = np.asarray(params, dtype=float)
    if m == "exponential":
        return np.exp(-p[0] * tt)
    if m == "weibull":
        return np.exp(-((p[0] * tt) ** p[1]))
    return special.erf(1.0 / np.sqrt(2.0 * (p[0] + p[1] * tt)))


@dataclass(frozen=True, slots=True)
class S2Result:
    """Result of the binomial method S2.

    Attributes
    ----------
    model : str
    params : ndarray
        ``(theta1,)`` or ``(theta1, theta2)``.
    interval : float
        Interval at which the fitted reliability equals the target.
    target_reliability : float
    log_likelihood, aic : float
    fitted : ndarray
        Model reliability at each distinct observed interval.
    times, observed : ndarray
        Distinct intervals and the observed in-tolerance proportions.
    counts : ndarray
        Calibrations per distinct interval.
    """

    model: str
    params: np.ndarray
    interval: float
    target_reliability: float
    log_likelihood: float
    aic: float
    times: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    fitted: np.ndarray


def _s2_iv(intervals, in_tolerance, n, model, target_reliability):
    t = as_array(intervals, "intervals", ndim=1, min_size=1)
    if np.any(t <= 0):
        raise fail("intervals", "must be > 0 (time between calibrations)")
    g = as_array(in_tolerance, "in_tolerance", ndim=1)
    if g.shape != t.shape:
        raise fail("in_tolerance", "must have one entry per interval")
    nn = np.ones_like(t) if n is None else as_array(n, "n", ndim=1)
    if nn.shape != t.shape:
        raise fail("n", "must have one entry per interval")
    if np.any(nn < 1) or np.any(nn != np.round(nn)):
        raise fail("n", "must be positive integers (calibrations per interval)")
    if np.any(g < 0) or np.any(g > nn) or np.any(g != np.round(g)):
        raise fail("in_tolerance", "must be integers between 0 and n (1/0 for single calibrations)")
    m = one_of(model, "model", MODELS)
    rt = as_probability(target_reliability, "target_reliability")
    # pool identical intervals
    times, inv = np.unique(t, return_inverse=True)
    counts = np.bincount(inv, weights=nn)
    goods = np.bincount(inv, weights=g)
    if m != "exponential" and times.size < 2:
        raise fail("intervals", f"need at least two distinct values to fit the two-parameter {m} model")
    return times, goods, counts, m, rt


def s2_reliability_fit(intervals: Any, in_tolerance: Any, target_reliability: float, model: str = "exponential",
                       n: Any = None) -> S2Result:
    """Method S2 of NCSLI RP-1: maximum-likelihood fit of a reliability model to in/out-of-tolerance
    history, and the interval that meets the end-of-period reliability target.

    The likelihood is binomial: ``sum_i g_i ln R(t_i) + (n_i - g_i) ln(1 - R(t_i))``.

    Parameters
    ----------
    intervals : array
        Time in service before each calibration (or group of calibrations).
    in_tolerance : array
        1/0 per calibration, or the number in tolerance of each group when ``n`` is given.
    target_reliability : float
    model : {"exponential", "weibull", "random_walk"}
    n : array, optional
        Calibrations per group.

    References
    ----------
    NCSLI RP-1 (2010) Method S2 and Appendix D.
    """
    t, g, nn, m, rt = _s2_iv(intervals, in_tolerance, n, model, target_reliability)
    obs = g / nn
    eps = 1e-300

    def negll(params: np.ndarray) -> float:
        r = np.clip(reliability(m, t, params), eps, 1 - 1e-16)
        return -float(np.sum(g * np.log(r) + (nn - g) * np.log1p(-r)))

    pooled = float(np.clip(g.sum() / nn.sum(), 1e-6, 1 - 1e-6))
    lam0 = -math.log(pooled) / float(np.average(t, weights=nn))
    if m == "exponential":
        if g.sum() == nn.sum():
            warn("every calibration was in tolerance: the exponential failure rate is 0 and the interval unbounded")
            params = np.array([0.0])
        elif t.size == 1:
            params = np.array([-math.log(obs[0]) / t[0]]) if obs[0] > 0 else np.array([np.inf])
        else:
            res = optimize.minimize_scalar(lambda a: negll(np.array([math.exp(a)])),
                                           bracket=(math.log(lam0) - 1, math.log(lam0) + 1))
            params = np.array([math.exp(res.x)])
    else:
        if m == "weibull":
            start = np.array([math.log(lam0), 0.0])

            def unpack(z: np.ndarray) -> np.ndarray:
                return np.array([math.exp(z[0]), math.exp(z[1])])
        else:
            # start from a straight line through 1/Q^2 of (up to 10) pooled groups of intervals
            groups = np.array_split(np.arange(t.size), min(10, t.size))
            gt = np.array([np.average(t[i], weights=nn[i]) for i in groups])
            gr = np.array([g[i].sum() / nn[i].sum() for i in groups])
            mask = (gr > 0.001) & (gr < 0.999)
            if mask.sum() >= 2:
                yy = stats.norm.ppf((gr[mask] + 1) / 2) ** -2.0
                slope, icpt = np.polyfit(gt[mask], yy, 1)
            else:
                slope, icpt = 0.0, 0.0
            start = np.array([math.log(max(icpt, 1e-3)), math.log(max(slope, 1e-6 / float(t.mean())))])

            def unpack(z: np.ndarray) -> np.ndarray:
                return np.array([math.exp(z[0]), math.exp(z[1])])

        def obj(z: np.ndarray) -> float:
            return negll(unpack(z))

        best = None
        for s in (start, start + np.array([0.5, 0.0]), start + np.array([-0.5, 0.5])):
            res = optimize.minimize(obj, s, method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
            if best is None or res.fun < best.fun:
                best = res
        params = unpack(best.x)
    ll = -negll(params)
    k = params.size
    interval = _solve_interval(m, params, rt)
    return S2Result(m, params, interval, rt, ll, 2 * k - 2 * ll, t, obs, nn, reliability(m, t, params))


def _solve_interval(m: str, params: np.ndarray, rt: float) -> float:
    if m == "exponential":
        return math.inf if params[0] == 0 else -math.log(rt) / params[0]
    if m == "weibull":
        return (-math.log(rt)) ** (1 / params[1]) / params[0]
    q = stats.norm.ppf((1 + rt) / 2)
    t = (1 / (q * q) - params[0]) / params[1]
    if t <= 0:
        warn("the fitted random-walk model is below the reliability target already at t = 0")
        return 0.0
    return float(t)
