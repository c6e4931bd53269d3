"""Exponentially weighted moving average (EWMA) chart with exact and asymptotic limits.

References
----------
.. [1] ISO 7870-6:2016, Control charts - Part 6: EWMA control charts, clause 5.
.. [2] J. M. Lucas, M. S. Saccucci, "Exponentially weighted moving average control schemes:
       properties and enhancements", Technometrics 32 (1990) 1-12.
.. [3] NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2.4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, as_int, fail, one_of, warn
from jingce.kernels.spc._common import ChartPanel, panel
from jingce.kernels.spc.constants import chart_constants
from jingce.kernels.spc.shewhart import _phase_iv

__all__ = ["EwmaChart", "ewma", "ewma_factor"]


@dataclass(frozen=True, slots=True)
class EwmaChart:
    """EWMA chart.

    Attributes
    ----------
    chart : ChartPanel
        z_i = lam x_i + (1 - lam) z_(i-1), z_0 = ``start``; limits as chosen by ``limits``.
    mu, sigma : float
        Centre and standard deviation of one plotted value x_i (sigma / sqrt(n) for means of n).
    lam, L : float
    start : float
    limits : str
        ``"exact"`` (time-varying) or ``"asymptotic"``.
    lcl_asymptotic, ucl_asymptotic : float
        Steady-state limits mu -+ L sigma sqrt(lam / (2 - lam)).
    phase : str
    """

    chart: ChartPanel
    mu: float
    sigma: float
    lam: float
    L: float
    start: float
    limits: str
    lcl_asymptotic: float
    ucl_asymptotic: float
    phase: str

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.chart,)


def ewma_factor(lam: float, i: np.ndarray | None = None) -> np.ndarray | float:
    """sqrt(lam/(2-lam) (1 - (1-lam)^(2i))): the EWMA standard deviation in units of sigma.

    With ``i=None`` the asymptotic value sqrt(lam/(2-lam)).
    """
    base = lam / (2.0 - lam)
    if i is None:
        return float(np.sqrt(base))
    return np.sqrt(base * -np.expm1(2.0 * np.asarray(i, float) * np.log1p(-lam)))


def _ewma_iv(data, lam, L, mu, sigma, n, start, limits):
    x = as_array(data, "data", ndim=1, min_size=1)
    lam = as_float(lam, "lam")
    if not 0 < lam <= 1:
        raise fail("lam", f"must be in (0, 1], got {lam}")
    L = as_float(L, "L", positive=True)
    mu, sigma = _phase_iv(mu, sigma)
    n = as_int(n, "n", lo=1)
    if mu is None and x.size < 2:
        raise fail("data", f"needs at least 2 values to estimate mu and sigma, got {x.size}")
    start = as_float(start, "start", allow_none=True)
    one_of(limits, "limits", ("exact", "asymptotic"))
    return x, lam, L, mu, sigma, n, start, limits


def ewma(data, *, lam=0.2, L=3.0, mu=None, sigma=None, n=1, start=None, limits="exact"):
    """EWMA control chart of individuals or subgroup means.

    Parameters
    ----------
    data : array_like, shape (m,)
        Individual values, or subgroup means of ``n`` values each, in time order.
    lam : float
        Weight of the newest value, 0 < lam <= 1.
    L : float
        Limit width in EWMA standard deviations.
    mu, sigma : float, optional
        Phase II target and process standard deviation (of single values). Phase I default:
        the mean of ``data`` and MR-bar / d2 of ``data`` (times sqrt(n) for means).
    n : int
        Subgroup size behind each plotted mean (1 for individuals).
    start : float, optional
        z_0; default ``mu``.
    limits : {"exact", "asymptotic"}
        Limits used for the panel and the points beyond them.

    Returns
    -------
    EwmaChart

    References
    ----------
    ISO 7870-6:2016 clause 5; Montgomery (2009) eqs. (9.22)-(9.25); NIST/SEMATECH e-Handbook 6.3.2.4.
    """
    x, lam, L, mu, sigma, n, start, limits = _ewma_iv(data, lam, L, mu, sigma, n, start, limits)
    phase = "II"
    if mu is None:
        phase = "I"
        mu = float(x[0] + np.mean(x - x[0]))
        mrb = float(np.mean(np.abs(np.diff(x))))
        sigma = mrb / chart_constants(2).d2 * np.sqrt(n)
        if sigma == 0:
            warn("all moving ranges are zero: the EWMA limits collapse onto the centre line")
    s1 = sigma / np.sqrt(n)
    z0 = mu if start is None else start
    z = _ewma_recursion(x, lam, z0)
    i = np.arange(1, x.size + 1)
    width = L * s1 * (ewma_factor(lam, i) if limits == "exact" else ewma_factor(lam))
    a = L * s1 * ewma_factor(lam)
    return EwmaChart(panel("ewma", z, mu, mu - width, mu + width), float(mu), float(s1), lam, L, float(z0), limits,
                     float(mu - a), float(mu + a), phase)


def _ewma_recursion(x: np.ndarray, lam: float, z0: float) -> np.ndarray:
    """z_i = lam x_i + (1-lam) z_(i-1) with scipy's linear filter (no Python loop)."""
    from scipy.signal import lfilter

    zi = np.array([(1.0 - lam) * (z0 - z0)])
    # filter deviations from z0 to keep digits: z_i - z0 = lam (x_i - z0) + (1 - lam)(z_(i-1) - z0)
    dev, _ = lfilter([lam], [1.0, -(1.0 - lam)], x - z0, zi=zi)
    return dev + z0
