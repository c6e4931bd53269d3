"""Confidence intervals for variance components that are linear combinations of mean squares.

A variance component of a balanced random-effects ANOVA is ``gamma = sum_q c_q S_q - sum_r c_r S_r``
where the ``S`` are independent mean squares with ``n`` degrees of freedom. The modified large-sample
(MLS) interval of Ting, Burdick, Graybill, Jeyaratnam and Lu (1990) is used, as recommended for Gage
R&R studies by Burdick, Borror and Montgomery (2005): it is exact for a single mean square, reduces to
the Graybill-Wang interval when all coefficients are positive and keeps close to the nominal level
otherwise. Lower bounds below zero are set to zero.

References
----------
.. [1] T. Ting, R. K. Burdick, F. A. Graybill, S. Jeyaratnam, T.-F. C. Lu, "Confidence intervals on
       linear combinations of variance components that are unrestricted in sign", J. Statist.
       Comput. Simul. 35 (1990) 135-143.
.. [2] R. K. Burdick, F. A. Graybill, *Confidence Intervals on Variance Components*, Dekker (1992),
       sections 3.2 to 3.4.
.. [3] R. K. Burdick, C. M. Borror, D. C. Montgomery, *Design and Analysis of Gauge R&R Studies*,
       ASA-SIAM (2005), chapter 3.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def _f_upper(a: float, dfn: float, dfd: float) -> float:
    """F value with upper-tail area ``a`` (``dfd = inf`` gives chi2/dfn); scipy.special for speed."""
    if np.isinf(dfd):
        return float(special.chdtri(dfn, a) / dfn)
    return float(special.fdtri(dfn, dfd, 1.0 - a))


def mls_interval(coef, ms, df, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided MLS interval for ``gamma = sum(coef * ms)``.

    Parameters
    ----------
    coef : sequence of float
        Coefficients (positive or negative) of the mean squares.
    ms : sequence of float
        Mean squares (>= 0).
    df : sequence of float
        Their degrees of freedom (> 0).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    lower, upper : float
        Bounds for ``gamma``; the lower bound is clipped at zero. NaN when ``gamma`` is NaN.
    """
    c = np.asarray(coef, dtype=float)
    s = np.asarray(ms, dtype=float)
    n = np.asarray(df, dtype=float)
    keep = (c != 0) & (n > 0)
    c, s, n = c[keep], s[keep], n[keep]
    gamma = float(np.sum(c * s))
    if not np.isfinite(gamma):
        return float("nan"), float("nan")
    a = (1.0 - confidence) / 2.0
    pos = np.flatnonzero(c > 0)
    neg = np.flatnonzero(c < 0)
    cs = np.abs(c) * s
    g = {q: 1.0 - 1.0 / _f_upper(a, n[q], np.inf) for q in range(c.size)}
    h = {q: 1.0 / _f_upper(1.0 - a, n[q], np.inf) - 1.0 for q in range(c.size)}
    v_low = sum(g[q] ** 2 * cs[q] ** 2 for q in pos) + sum(h[r] ** 2 * cs[r] ** 2 for r in neg)
    v_up = sum(h[q] ** 2 * cs[q] ** 2 for q in pos) + sum(g[r] ** 2 * cs[r] ** 2 for r in neg)
    for q in pos:
        for r in neg:
            f1 = _f_upper(a, n[q], n[r])
            f2 = _f_upper(1.0 - a, n[q], n[r])
            g_qr = ((f1 - 1.0) ** 2 - g[q] ** 2 * f1**2 - h[r] ** 2) / f1
            h_qr = ((1.0 - f2) ** 2 - h[q] ** 2 * f2**2 - g[r] ** 2) / f2
            v_low += g_qr * cs[q] * cs[r]
            v_up += h_qr * cs[q] * cs[r]
    if pos.size > 1:
        for i, q in enumerate(pos):
            for t in pos[i + 1 :]:
                nq, nt = n[q], n[t]
                g_star = (
                    (1.0 - 1.0 / _f_upper(a, nq + nt, np.inf)) ** 2 * (nq + nt) ** 2 / (nq * nt)
                    - g[q] ** 2 * nq / nt
                    - g[t] ** 2 * nt / nq
                ) / (pos.size - 1)
                v_low += g_star * cs[q] * cs[t]
    lower = gamma - np.sqrt(max(v_low, 0.0))
    upper = gamma + np.sqrt(max(v_up, 0.0))
    return max(float(lower), 0.0), max(float(upper), 0.0)


def chi2_interval(estimate: float, dof: float, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for a variance whose estimate is ``sigma**2 * chi2_dof / dof`` (possibly fractional dof)."""
    if not (np.isfinite(estimate) and np.isfinite(dof) and dof > 0):
        return float("nan"), float("nan")
    a = (1.0 - confidence) / 2.0
    return float(estimate * dof / stats.chi2.isf(a, dof)), float(estimate * dof / stats.chi2.ppf(a, dof))
