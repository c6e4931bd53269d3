"""Control chart constants d2, d3, c4, A2, A3, B3..B6, D1..D4 computed from their definitions.

``d2(n)`` and ``d3(n)`` are the mean and standard deviation of the range of ``n`` independent
standard normal variables, evaluated by numerical integration (Tippett 1925; Harter 1960);
``c4(n)`` is the mean of the sample standard deviation of ``n`` standard normal variables, a
ratio of gamma functions. The other factors follow from these three (ISO 7870-2:2013, Table 2).

``constants="tabled"`` rounds every factor to the digits printed in the published tables
(d2, d3, A2, A3, B3..B6, D1..D4 to 3 decimals, c4 to 4 decimals), reproducing hand calculations
made with the printed table; ``"exact"`` (default) uses the integrals.

References
----------
.. [1] ISO 7870-2:2013 (GB/T 17989.2-2020), Control charts - Part 2: Shewhart control charts,
       Table 2 "Control limit factors".
.. [2] ASTM E2587-16, Standard Practice for Use of Control Charts in Statistical Process Control,
       Table 1 and Appendix X1 (definitions of d2, d3, c4).
.. [3] L. H. C. Tippett, "On the extreme individuals and the range of samples taken from a normal
       population", Biometrika 17 (1925) 364-387.
.. [4] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009,
       Appendix Table VI.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from scipy import special

from jingce.kernels._validation import as_int, fail, one_of

__all__ = ["ChartConstants", "c4", "chart_constants", "d2", "d3"]

N_MAX = 100  # the integrals are exact to ~1e-10 up to here
_TABLE_DIGITS = {"c4": 4}  # all other factors are printed with 3 decimals

_GL_POINTS = 400  # Gauss-Legendre points per interval of the range integrals


def _legendre_p_dp(n: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P_n(x) and P_n'(x) by the three-term recurrence (A&S 22.7.10, 22.8.5)."""
    p0, p1 = np.ones_like(x), x.copy()
    for j in range(2, n + 1):
        p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
    return p1, n * (x * p1 - p0) / ((x - 1.0) * (x + 1.0))


@lru_cache(maxsize=1)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (ascending) and weights of the n-point Gauss-Legendre rule on [-1, 1].

    Newton's method on P_n from the asymptotic first guesses cos(pi (k - 1/4) / (n + 1/2)) and the
    weights 2 / ((1 - x^2) P_n'(x)^2) (Abramowitz & Stegun 25.4.29; Davis & Rabinowitz, Methods
    of Numerical Integration, 2nd ed. 1984, section 2.7). Pure element-wise numpy: no dense
    eigenvalue problem, whose multithreaded BLAS made numpy's ``leggauss(400)`` cost up to a
    second on a loaded machine. Against 40-digit values the weights are good to ~3e-12 relative
    at the ends (numpy's: ~6e-10), so d2(2) and d3(2) meet their closed forms more closely.
    """
    m = (n + 1) // 2  # the positive half; the rule is symmetric
    x = np.cos(np.pi * (np.arange(1, m + 1) - 0.25) / (n + 0.5))
    for _ in range(100):
        p, dp = _legendre_p_dp(n, x)
        dx = p / dp
        x = x - dx
        if np.max(np.abs(dx)) <= 1e-16:
            break
    _, dp = _legendre_p_dp(n, x)
    w = 2.0 / ((1.0 - x) * (1.0 + x) * dp * dp)
    if n % 2:
        x[-1] = 0.0
    odd = n % 2
    return np.concatenate((-x, x[::-1][odd:])), np.concatenate((w, w[::-1][odd:]))


def _gl(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    gx, gw = _gauss_legendre(_GL_POINTS)
    half = 0.5 * (hi - lo)
    return lo + half * (gx + 1.0), half * gw


@lru_cache(maxsize=1)
def _range_grid() -> tuple[np.ndarray, ...]:
    """Quadrature grids for the range integrals, shared by every n (built once, on first use):
    x on [-12, 12], w on [0, 16]."""
    x, wx = _gl(-12.0, 12.0)
    ws, wws = zip(*(_gl(lo, hi) for lo, hi in ((0.0, 2.0), (2.0, 5.0), (5.0, 9.0), (9.0, 16.0))), strict=True)
    w, ww = np.concatenate(ws), np.concatenate(wws)
    # Phi(x + w) - Phi(x), from the upper tails where x > 0 so no digits are lost
    pos = x > 0
    diff = np.empty((w.size, x.size))
    diff[:, pos] = special.ndtr(-x[pos])[None, :] - special.ndtr(-(x[pos][None, :] + w[:, None]))
    diff[:, ~pos] = special.ndtr(x[~pos][None, :] + w[:, None]) - special.ndtr(x[~pos])[None, :]
    logdiff = np.log(np.maximum(diff, 1e-300))
    return x, wx, w, ww, logdiff, wx * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@cache
def _range_moments(n: int) -> tuple[float, float]:
    """E[W] and Var[W] of the range W of n standard normal variables.

    E[W] = integral of 1 - Phi(x)^n - (1 - Phi(x))^n over x (Tippett), and
    E[W^2] = 2 * integral_0^inf w P(W > w) dw with
    P(W <= w) = n * integral phi(x) (Phi(x + w) - Phi(x))^(n-1) dx.
    """
    x, wx, w, ww, logdiff, wpdf = _range_grid()
    lp, lq = special.log_ndtr(x), special.log_ndtr(-x)
    ew = float(np.sum(wx * -np.expm1(np.logaddexp(n * lp, n * lq))))
    cdf_w = n * (np.exp((n - 1) * logdiff) @ wpdf)
    ew2 = 2.0 * float(np.sum(ww * w * (1.0 - np.minimum(cdf_w, 1.0))))
    return ew, ew2 - ew * ew


def _n_iv(n) -> int:
    return as_int(n, "n", lo=2, hi=N_MAX)


def d2(n: int) -> float:
    """Mean of the relative range W = R / sigma of n normal values (``d2``)."""
    return _range_moments(_n_iv(n))[0]


def d3(n: int) -> float:
    """Standard deviation of the relative range W = R / sigma of n normal values (``d3``)."""
    return float(np.sqrt(_range_moments(_n_iv(n))[1]))


def c4(n: int) -> float:
    """Mean of s / sigma for n normal values: sqrt(2/(n-1)) Gamma(n/2) / Gamma((n-1)/2)."""
    n = _n_iv(n)
    return float(np.sqrt(2.0 / (n - 1)) * np.exp(special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0)))


@dataclass(frozen=True, slots=True)
class ChartConstants:
    """All Shewhart factors for subgroup size ``n`` (ISO 7870-2 Table 2 notation).

    Attributes
    ----------
    n : int
    kind : str
        ``"exact"`` or ``"tabled"`` (rounded as printed in the published tables).
    k : float
        Width of the limits in standard errors (3 for the tables; the factors scale with k).
    d2, d3, c4 : float
    A, A2, A3 : float
        X-bar factors: standard given, from R-bar, from s-bar.
    B3, B4, B5, B6 : float
        s chart factors (from s-bar; standard given).
    D1, D2, D3, D4 : float
        R chart factors (standard given; from R-bar).
    """

    n: int
    kind: str
    k: float
    d2: float
    d3: float
    c4: float
    A: float
    A2: float
    A3: float
    B3: float
    B4: float
    B5: float
    B6: float
    D1: float
    D2: float
    D3: float
    D4: float


@cache
def _chart_constants(n: int, kind: str, k: float) -> ChartConstants:
    m, v = _range_moments(n)
    dd2, dd3, cc4 = m, float(np.sqrt(v)), c4(n)
    rn = np.sqrt(n)
    s_c4 = np.sqrt(1.0 - cc4 * cc4)
    f = {
        "d2": dd2,
        "d3": dd3,
        "c4": cc4,
        "A": k / rn,
        "A2": k / (dd2 * rn),
        "A3": k / (cc4 * rn),
        "B3": max(0.0, 1.0 - k * s_c4 / cc4),
        "B4": 1.0 + k * s_c4 / cc4,
        "B5": max(0.0, cc4 - k * s_c4),
        "B6": cc4 + k * s_c4,
        "D1": max(0.0, dd2 - k * dd3),
        "D2": dd2 + k * dd3,
        "D3": max(0.0, 1.0 - k * dd3 / dd2),
        "D4": 1.0 + k * dd3 / dd2,
    }
    if kind == "tabled":
        f = {name: round(val, _TABLE_DIGITS.get(name, 3)) for name, val in f.items()}
    return ChartConstants(n=n, kind=kind, k=float(k), **{name: float(val) for name, val in f.items()})


def chart_constants(n: int, constants: str = "exact", k: float = 3.0) -> ChartConstants:
    """Control chart factors for subgroup size ``n``.

    Parameters
    ----------
    n : int
        Subgroup size, 2..100.
    constants : {"exact", "tabled"}
        ``"exact"`` computes the factors from the integrals; ``"tabled"`` rounds them to the digits
        printed in ISO 7870-2 Table 2 / ASTM E2587 Table 1.
    k : float
        Limit width in standard errors (3 for the published tables).

    Returns
    -------
    ChartConstants

    References
    ----------
    ISO 7870-2:2013, Table 2; ASTM E2587-16, Table 1.
    """
    n = _n_iv(n)
    one_of(constants, "constants", ("exact", "tabled"))
    if not (isinstance(k, int | float) and np.isfinite(k) and k > 0):
        raise fail("k", f"must be a finite number > 0, got {k!r}")
    return _chart_constants(n, constants, float(k))
