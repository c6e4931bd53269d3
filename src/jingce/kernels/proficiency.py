"""Proficiency testing by interlaboratory comparison: performance scores and robust statistics.

References
----------
.. [1] ISO 13528:2015, Statistical methods for use in proficiency testing by interlaboratory
       comparison: 7.7 (assigned value from participants' results and its standard uncertainty
       ``u(x_pt) = 1.25 s* / sqrt(p)``), 9.4 (z), 9.5 (z'), 9.6 (zeta), 9.7 (E_n), 9.2.1
       (``u(x_pt) <= 0.3 sigma_pt``), 9.4.1 and 9.7.1 (classification), Annex C.3.1
       (Algorithm A), C.4 (Algorithm S).
.. [2] ISO 5725-5:1998, 6.2 (Algorithms A and S; Table B.? limit and adjustment factors).
.. [3] NIST Dataplot reference manual, "ISO 13528 ZSCORE", "ZPRIME SCORE", "ZETA SCORE",
       "EN SCORE", "ROBUST POOLED STANDARD DEVIATION" (worked on GEAR.DAT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_float, as_int, fail, one_of, warn

__all__ = [
    "RobustResult",
    "AssignedValue",
    "Scores",
    "algorithm_a",
    "algorithm_s",
    "assigned_value",
    "z_score",
    "z_prime_score",
    "zeta_score",
    "en_score",
    "classify",
    "scores",
]


@dataclass(frozen=True, slots=True)
class RobustResult:
    """Robust average ``x*`` and robust standard deviation ``s*`` (ISO 13528 C.3.1).

    ``iterations`` counts the updates until neither estimate changed by more than ``tolerance``
    (relative); ``converged`` is False when ``max_iter`` was reached.
    """

    x_star: float
    s_star: float
    n: int
    iterations: int
    converged: bool


def _algorithm_a_iv(values: Any, tolerance: Any, max_iter: Any) -> tuple[np.ndarray, float, int]:
    x = as_array(values, "values", ndim=1, min_size=2)
    tol = as_float(tolerance, "tolerance", positive=True)
    it = as_int(max_iter, "max_iter", lo=1)
    return x, tol, it


def algorithm_a(values: Any, *, tolerance: float = 1e-12, max_iter: int = 1000) -> RobustResult:
    """Robust mean and standard deviation by Algorithm A (Huber H15, ISO 13528:2015 C.3.1).

    Start with ``x* = median``, ``s* = 1.483 median|x_i - x*|``; repeat: ``delta = 1.5 s*``,
    winsorise ``x_i`` to ``[x* - delta, x* + delta]``, ``x* = mean``,
    ``s* = 1.134 sqrt(sum (x_i* - x*)^2 / (p - 1))`` until it converges (here to ``tolerance``,
    stricter than the standard's third significant figure).

    Degenerate data (more than half the values equal, so ``s* = 0``) warn and give ``s* = 0``.

    References
    ----------
    ISO 13528:2015 C.3.1; ISO 5725-5:1998 6.2.2.
    """
    x, tol, max_iter = _algorithm_a_iv(values, tolerance, max_iter)
    p = x.size
    x_star = float(np.median(x))
    s_star = 1.483 * float(np.median(np.abs(x - x_star)))
    if s_star == 0.0:
        warn("Algorithm A: more than half the values are equal (MAD = 0); s* = 0")
        return RobustResult(x_star, 0.0, p, 0, True)
    converged = False
    it = 0
    pattern = None
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        delta = 1.5 * s_star
        new_pattern = np.sign(np.round((x - x_star) / delta, 12)) * (np.abs(x - x_star) > delta)
        if pattern is not None and np.array_equal(new_pattern, pattern):
            exact = _algorithm_a_fixed_point(x, new_pattern)
            if exact is not None:
                x_star, s_star = exact
                converged = True
                break
        pattern = new_pattern
        w = np.clip(x, x_star - delta, x_star + delta)
        new_x = float(np.mean(w))
        dev = w - new_x
        new_x += float(np.mean(dev))
        dev = w - new_x
        new_s = 1.134 * math.sqrt(float(np.dot(dev, dev)) / (p - 1))
        scale = max(abs(new_s), 1e-300)
        done = abs(new_x - x_star) <= tol * scale and abs(new_s - s_star) <= tol * scale
        x_star, s_star = new_x, new_s
        if done:
            converged = True
            break
    if not converged:
        warn(f"Algorithm A did not converge in {max_iter} iterations")
    return RobustResult(x_star, s_star, p, it, converged)


def _algorithm_a_fixed_point(x: np.ndarray, pattern: np.ndarray) -> tuple[float, float] | None:
    """The exact fixed point of Algorithm A for a given set of values clipped low (-1) / high (+1).

    With the clipping pattern fixed the update is linear in x* and quadratic in s*:
    ``x* = (S_M + (n_U - n_L) delta) / m`` and
    ``s*^2 (1 - 1.134^2 2.25 K / (p - 1)) = 1.134^2 SS_M / (p - 1)`` with
    ``K = (n_U - n_L)^2 / m + n_L + n_U``. Returns None when the solution does not reproduce the
    pattern (then the iteration simply continues).
    """
    mid = pattern == 0
    m = int(mid.sum())
    if m < 2:
        return None
    p = x.size
    n_lo = int((pattern < 0).sum())
    n_hi = int((pattern > 0).sum())
    xm = x[mid]
    mean_m = float(xm.mean())
    ss_m = float(np.sum((xm - mean_m) ** 2))
    k = (n_hi - n_lo) ** 2 / m + n_lo + n_hi
    c2 = 1.134**2
    den = 1 - c2 * 2.25 * k / (p - 1)
    if den <= 0:
        return None
    s = math.sqrt(c2 * ss_m / (p - 1) / den)
    delta = 1.5 * s
    xs = mean_m + (n_hi - n_lo) * delta / m
    check = np.where(x < xs - delta, -1, np.where(x > xs + delta, 1, 0))
    if not np.array_equal(check, pattern.astype(int)):
        return None
    return xs, s


def algorithm_s_factors(dof: int) -> tuple[float, float]:
    """Limit factor ``eta`` and adjustment factor ``xi`` of Algorithm S for ``dof`` degrees of
    freedom: ``eta = sqrt(chi2_{0.9, nu} / nu)``,
    ``xi = 1 / sqrt(F_{chi2, nu+2}(nu eta^2) + 0.1 eta^2)`` (ISO 13528 C.4, Table C.2).
    """
    nu = as_int(dof, "dof", lo=1)
    eta = math.sqrt(stats.chi2.ppf(0.9, nu) / nu)
    xi = 1.0 / math.sqrt(stats.chi2.cdf(nu * eta * eta, nu + 2) + 0.1 * eta * eta)
    return eta, xi


@dataclass(frozen=True, slots=True)
class RobustPooled:
    """Robust pooled standard deviation ``w*`` by Algorithm S."""

    w_star: float
    eta: float
    xi: float
    dof: int
    iterations: int
    converged: bool


def algorithm_s(sds: Any, dof: int, *, eta: float | None = None, xi: float | None = None,
                tolerance: float = 1e-12, max_iter: int = 1000) -> RobustPooled:
    """Robust pooled value of standard deviations (or ranges, ``dof = 1``) by Algorithm S.

    ``w* = median(w_i)``; repeat ``psi = eta w*``, ``w_i* = min(w_i, psi)``,
    ``w* = xi sqrt(sum w_i*^2 / p)`` until it converges.

    ``eta`` and ``xi`` default to the exact values of :func:`algorithm_s_factors`; pass the
    three-decimal values of ISO 13528 Table C.2 to reproduce hand or Dataplot calculations.

    References
    ----------
    ISO 13528:2015 C.4; ISO 5725-5:1998 6.2.3.
    """
    w = as_array(sds, "sds", ndim=1, min_size=2)
    if np.any(w < 0):
        raise fail("sds", "must be >= 0 (standard deviations or ranges)")
    tol = as_float(tolerance, "tolerance", positive=True)
    max_iter = as_int(max_iter, "max_iter", lo=1)
    eta_x, xi_x = algorithm_s_factors(dof)
    eta = eta_x if eta is None else as_float(eta, "eta", positive=True)
    xi = xi_x if xi is None else as_float(xi, "xi", positive=True)
    w_star = float(np.median(w))
    if w_star == 0.0:
        warn("Algorithm S: the median standard deviation is 0")
        return RobustPooled(0.0, eta, xi, int(dof), 0, True)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        psi = eta * w_star
        new = xi * math.sqrt(float(np.mean(np.minimum(w, psi) ** 2)))
        done = abs(new - w_star) <= tol * new
        w_star = new
        if done:
            converged = True
            break
    if not converged:
        warn(f"Algorithm S did not converge in {max_iter} iterations")
    return RobustPooled(w_star, eta, xi, int(dof), it, converged)


@dataclass(frozen=True, slots=True)
class AssignedValue:
    """Assigned value ``x_pt``, its standard uncertainty and the standard deviation for proficiency
    assessment ``sigma_pt`` (when derived from participants).

    ``uncertainty_negligible`` is the ISO 13528 9.2.1 check ``u(x_pt) <= 0.3 sigma_pt``; when it
    fails, z' or zeta scores should be used instead of z.
    """

    x_pt: float
    u_x_pt: float
    sigma_pt: float
    method: str
    uncertainty_negligible: bool


def assigned_value(values: Any = None, *, method: str = "algorithm_a", reference: Any = None,
                   u_reference: Any = None, sigma_pt: Any = None) -> AssignedValue:
    """The assigned value of a proficiency test round.

    ``method="algorithm_a"``: consensus of participants, ``x_pt = x*``, ``u(x_pt) = 1.25 s*/sqrt(p)``
    and, unless given, ``sigma_pt = s*`` (ISO 13528 7.7, 8.6). ``method="reference"``: a reference
    value with its standard uncertainty (ISO 13528 7.3-7.5); ``sigma_pt`` must then be given.

    References
    ----------
    ISO 13528:2015 7.3-7.7, 8.6, 9.2.1.
    """
    meth = one_of(method, "method", ("algorithm_a", "reference"))
    if meth == "reference":
        x = as_float(reference, "reference")
        ux = as_float(u_reference, "u_reference", nonnegative=True)
        sp = as_float(sigma_pt, "sigma_pt", positive=True)
    else:
        rob = algorithm_a(values)
        x = rob.x_star
        ux = 1.25 * rob.s_star / math.sqrt(rob.n)
        sp = rob.s_star if sigma_pt is None else as_float(sigma_pt, "sigma_pt", positive=True)
    return AssignedValue(x, ux, sp, meth, bool(ux <= 0.3 * sp))


def _scores_arrays(x: Any, *others: tuple[Any, str, bool | None]) -> list[np.ndarray]:
    """``others``: (value, name, positive) with positive True (> 0), False (>= 0) or None (any
    sign: an assigned value may be negative, e.g. a deviation or a temperature in degC)."""
    arrs = [as_array(x, "x")]
    for value, name, positive in others:
        a = as_array(value, name)
        if positive and np.any(a <= 0):
            raise fail(name, "must be > 0")
        if positive is False and np.any(a < 0):
            raise fail(name, "must be >= 0")
        arrs.append(a)
    try:
        np.broadcast_shapes(*(a.shape for a in arrs))
    except ValueError:
        raise fail("x", "and the other arguments must broadcast together") from None
    return arrs


def _out(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


def z_score(x: Any, x_pt: Any, sigma_pt: Any) -> Any:
    """``z = (x - x_pt) / sigma_pt`` (ISO 13528:2015 9.4)."""
    xx, xp, sp = _scores_arrays(x, (x_pt, "x_pt", None), (sigma_pt, "sigma_pt", True))
    return _out((xx - as_array(x_pt, "x_pt")) / sp)


def z_prime_score(x: Any, x_pt: Any, sigma_pt: Any, u_x_pt: Any) -> Any:
    """``z' = (x - x_pt) / sqrt(sigma_pt^2 + u(x_pt)^2)`` (ISO 13528:2015 9.5)."""
    xx, _, sp, ux = _scores_arrays(x, (x_pt, "x_pt", None), (sigma_pt, "sigma_pt", True),
                                   (u_x_pt, "u_x_pt", False))
    return _out((xx - as_array(x_pt, "x_pt")) / np.sqrt(sp * sp + ux * ux))


def zeta_score(x: Any, u_x: Any, x_pt: Any, u_x_pt: Any) -> Any:
    """``zeta = (x - x_pt) / sqrt(u(x)^2 + u(x_pt)^2)`` with standard uncertainties (ISO 13528 9.6)."""
    xx, ux, _, up = _scores_arrays(x, (u_x, "u_x", False), (x_pt, "x_pt", None), (u_x_pt, "u_x_pt", False))
    den = np.sqrt(ux * ux + up * up)
    if np.any(den == 0):
        raise fail("u_x", "and u_x_pt must not both be 0")
    return _out((xx - as_array(x_pt, "x_pt")) / den)


def en_score(x: Any, U_x: Any, x_pt: Any, U_x_pt: Any) -> Any:
    """``E_n = (x - x_pt) / sqrt(U(x)^2 + U(x_pt)^2)`` with expanded uncertainties (ISO 13528 9.7)."""
    xx, ux, _, up = _scores_arrays(x, (U_x, "U_x", False), (x_pt, "x_pt", None), (U_x_pt, "U_x_pt", False))
    den = np.sqrt(ux * ux + up * up)
    if np.any(den == 0):
        raise fail("U_x", "and U_x_pt must not both be 0")
    return _out((xx - as_array(x_pt, "x_pt")) / den)


def classify(score: Any, kind: str = "z") -> np.ndarray:
    """Performance classification (ISO 13528:2015 9.4.1, 9.7.1).

    z, z', zeta: ``|s| <= 2`` satisfactory, ``2 < |s| < 3`` questionable, ``|s| >= 3``
    unsatisfactory. E_n: ``|E_n| <= 1`` satisfactory, otherwise unsatisfactory.
    """
    k = one_of(kind, "kind", ("z", "z_prime", "zeta", "en"))
    s = np.abs(as_array(score, "score"))
    if k == "en":
        return np.where(s <= 1.0, "satisfactory", "unsatisfactory")
    return np.where(s <= 2.0, "satisfactory", np.where(s < 3.0, "questionable", "unsatisfactory"))


@dataclass(frozen=True, slots=True)
class Scores:
    """Scores of all participants of one round with their classification."""

    assigned: AssignedValue
    z: np.ndarray
    z_class: np.ndarray
    z_prime: np.ndarray
    z_prime_class: np.ndarray
    zeta: np.ndarray | None
    zeta_class: np.ndarray | None
    en: np.ndarray | None
    en_class: np.ndarray | None


def scores(x: Any, *, u_x: Any = None, k: float = 2.0, method: str = "algorithm_a", reference: Any = None,
           u_reference: Any = None, sigma_pt: Any = None) -> Scores:
    """Assigned value and z, z', zeta and E_n scores with classification for one round.

    ``u_x`` (participants' standard uncertainties) enables zeta and E_n (with ``U = k u``).

    References
    ----------
    ISO 13528:2015 7, 9.4-9.7.
    """
    xx = as_array(x, "x", ndim=1, min_size=1)
    av = assigned_value(xx, method=method, reference=reference, u_reference=u_reference, sigma_pt=sigma_pt)
    z = np.atleast_1d(z_score(xx, av.x_pt, av.sigma_pt))
    zp = np.atleast_1d(z_prime_score(xx, av.x_pt, av.sigma_pt, av.u_x_pt))
    zeta = en = zc = ec = None
    if u_x is not None:
        kk = as_float(k, "k", positive=True)
        ux = as_array(u_x, "u_x")
        zeta = np.atleast_1d(zeta_score(xx, ux, av.x_pt, av.u_x_pt))
        en = np.atleast_1d(en_score(xx, kk * ux, av.x_pt, kk * av.u_x_pt))
        zc, ec = classify(zeta, "zeta"), classify(en, "en")
    return Scores(av, z, classify(z, "z"), zp, classify(zp, "z_prime"), zeta, zc, en, ec)
