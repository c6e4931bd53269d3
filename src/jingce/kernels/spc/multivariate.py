"""Hotelling T-squared chart for individual and subgrouped multivariate observations.

References
----------
.. [1] N. D. Tracy, J. C. Young, R. L. Mason,
       "Multivariate control charts for individual observations", Journal of Quality Technology 24
       (1992) 88-95 (phase I beta limits, phase II F limits).
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed. (2009), section 11.3,
       eqs. (11.19)-(11.20) (subgroups) and (11.28)-(11.30) (individuals).
.. [3] NIST/SEMATECH e-Handbook of Statistical Methods, 6.5.4.3 (pmc5433, pmc5434).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_int, as_probability, fail, warn
from jingce.kernels.spc._common import ChartPanel, panel

__all__ = ["T2Chart", "hotelling_t2"]


@dataclass(frozen=True, slots=True)
class T2Chart:
    """Hotelling T-squared chart.

    Attributes
    ----------
    chart : ChartPanel
        T-squared per observation or subgroup with the upper control limit (no lower limit).
    mean : ndarray, shape (p,)
        Centre vector used.
    cov : ndarray, shape (p, p)
        Covariance matrix used (pooled within-subgroup for subgroups).
    phase : str
    limit : str
        ``"beta"`` (phase I individuals), ``"F"`` (phase I subgroups, phase II with estimated
        parameters) or ``"chi2"`` (phase II with known parameters).
    m_ref, n, p : int
        Observations (or subgroups) behind the estimate, subgroup size, number of variables.
    alpha : float
    """

    chart: ChartPanel
    mean: np.ndarray
    cov: np.ndarray
    phase: str
    limit: str
    m_ref: int
    n: int
    p: int
    alpha: float

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.chart,)


def _t2_iv(data, mean, cov, m_ref, alpha):
    x = as_array(data, "data", ndim=(2, 3))
    if x.ndim == 2:
        x = x[:, None, :]
    m, n, p = x.shape
    if p < 1:
        raise fail("data", "needs at least one variable (last axis)")
    alpha = as_probability(alpha, "alpha")
    if (mean is None) != (cov is None):
        raise fail("mean/cov", "must be given together (phase II) or both omitted (phase I)")
    if mean is None:
        need = p + 2 if n == 1 else 2
        if m < need:
            raise fail("data", f"phase I needs at least {need} {'observations' if n == 1 else 'subgroups'}, got {m}")
        if n > 1 and m * n - m - p + 1 < 1:
            raise fail("data", "too few observations for the number of variables (m n - m - p + 1 < 1)")
        return x, None, None, None, alpha
    mu = as_array(mean, "mean", ndim=1)
    s = as_array(cov, "cov", ndim=2)
    if mu.size != p or s.shape != (p, p):
        raise fail("mean/cov", f"must have {p} and {p}x{p} entries for {p} variables")
    if not np.allclose(s, s.T, rtol=1e-10, atol=0):
        raise fail("cov", "must be symmetric")
    if np.linalg.eigvalsh(s)[0] <= 0:
        raise fail("cov", "must be positive definite")
    if m_ref is not None:
        m_ref = as_int(m_ref, "m_ref", lo=p + 1 if n == 1 else 1)
    return x, mu, s, m_ref, alpha


def hotelling_t2(data, *, mean=None, cov=None, m_ref=None, alpha=0.0027):
    """Hotelling T-squared control chart.

    Parameters
    ----------
    data : array_like, shape (m, p) or (m, n, p)
        m individual observations of p variables, or m subgroups of n observations.
    mean, cov : array_like, optional
        Phase II: centre vector and covariance (for subgroups: the within-subgroup covariance of
        single observations). Omit both for phase I.
    m_ref : int, optional
        Phase II: number of observations (individuals) or subgroups (of the same n) the given
        ``mean`` and ``cov`` were estimated from; F limits are used then. Without it the
        parameters are taken as known and the limit is the chi-square quantile.
    alpha : float
        False-alarm probability per point (0.0027 matches 3-sigma limits).

    Returns
    -------
    T2Chart

    Notes
    -----
    Phase I, individuals (Tracy, Young & Mason 1992): T2_i = (x_i - x-bar)' S^-1 (x_i - x-bar),
    UCL = (m-1)^2/m * Beta_(1-alpha)(p/2, (m-p-1)/2).
    Phase I, subgroups: T2_j = n (x-bar_j - x-double-bar)' S-pooled^-1 (...),
    UCL = p (m-1)(n-1) / (m n - m - p + 1) * F_(1-alpha)(p, m n - m - p + 1).
    Phase II, individuals: UCL = p (m+1)(m-1) / (m^2 - m p) * F_(1-alpha)(p, m - p).
    Phase II, subgroups: UCL = p (m+1)(n-1) / (m n - m - p + 1) * F_(1-alpha)(p, m n - m - p + 1).

    References
    ----------
    Tracy, Young & Mason (1992); Montgomery (2009) section 11.3; NIST/SEMATECH e-Handbook 6.5.4.3.
    """
    x, mu, s, m_ref, alpha = _t2_iv(data, mean, cov, m_ref, alpha)
    m, n, p = x.shape
    means = x.mean(axis=1)
    if mu is None:
        phase = "I"
        ref = means[0]
        mu = ref + (means - ref).mean(axis=0)
        if n == 1:
            d = x[:, 0, :] - mu
            s = d.T @ d / (m - 1)
            ucl = (m - 1) ** 2 / m * stats.beta.ppf(1 - alpha, p / 2, (m - p - 1) / 2)
            limit = "beta"
        else:
            dev = x - means[:, None, :]
            s = np.einsum("mni,mnj->ij", dev, dev) / (m * (n - 1))
            dfd = m * n - m - p + 1
            ucl = p * (m - 1) * (n - 1) / dfd * stats.f.ppf(1 - alpha, p, dfd)
            limit = "F"
        m_used = m
    else:
        phase = "II"
        if m_ref is None:
            ucl, limit, m_used = stats.chi2.ppf(1 - alpha, p), "chi2", 0
        elif n == 1:
            mr = m_ref
            ucl = p * (mr + 1) * (mr - 1) / (mr * mr - mr * p) * stats.f.ppf(1 - alpha, p, mr - p)
            limit, m_used = "F", mr
        else:
            mr = m_ref
            dfd = mr * n - mr - p + 1
            if dfd < 1:
                raise fail("m_ref", "too small for the number of variables (m n - m - p + 1 < 1)")
            ucl = p * (mr + 1) * (n - 1) / dfd * stats.f.ppf(1 - alpha, p, dfd)
            limit, m_used = "F", mr
    try:
        chol = np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        warn("the covariance matrix is singular (constant or collinear variables): T-squared is undefined")
        t2 = np.full(m, np.nan)
    else:
        from scipy.linalg import solve_triangular

        w = solve_triangular(chol, (means - mu).T, lower=True)
        t2 = n * np.sum(w * w, axis=0)
    return T2Chart(panel("t2", t2, np.nan, np.nan, float(ucl)), np.asarray(mu), np.asarray(s), phase, limit,
                   m_used, n, p, alpha)
