"""Tabular CUSUM with reference value K, decision interval H and fast initial response.

The one-sided sums C+_i = max(0, x_i - (mu + K) + C+_(i-1)) are computed without a Python loop
through Lindley's identity C_i = S_i - min(-C_0, min_(j<=i) S_j) with S the cumulative sum of
x - (mu + K).

References
----------
.. [1] ISO 7870-4:2021, Control charts - Part 4: Cumulative sum charts, clause 7 (tabular CUSUM).
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed. (2009), section 9.1.
.. [3] J. M. Lucas, R. B. Crosier, "Fast initial response for CUSUM quality-control schemes",
       Technometrics 24 (1982) 199-205.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, as_int, fail, warn
from jingce.kernels.spc._common import ChartPanel, panel
from jingce.kernels.spc.constants import chart_constants
from jingce.kernels.spc.shewhart import _phase_iv

__all__ = ["CusumChart", "cusum"]


@dataclass(frozen=True, slots=True)
class CusumChart:
    """Tabular CUSUM.

    Attributes
    ----------
    upper, lower : ChartPanel
        C+ and C- with limit H (``lower`` plots C- as a positive sum against the same H).
    n_upper, n_lower : ndarray of int
        Consecutive periods the sum has been non-zero (N+ and N-).
    mu, sigma : float
        Target and standard deviation of one plotted value.
    K, H : float
        Reference value and decision interval in data units (k sigma and h sigma).
    headstart : float
        C_0 as a fraction of H (0.5 for the usual fast initial response).
    signals : ndarray of int
        Points where either sum exceeds H.
    shift_estimate : ndarray
        New process mean estimated at each signal: mu + K + C+/N+ (upper) or mu - K - C-/N-.
    phase : str
    """

    upper: ChartPanel
    lower: ChartPanel
    n_upper: np.ndarray
    n_lower: np.ndarray
    mu: float
    sigma: float
    K: float
    H: float
    headstart: float
    signals: np.ndarray
    shift_estimate: np.ndarray
    phase: str

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.upper, self.lower)


def one_sided_cusum(dev: np.ndarray, c0: float) -> np.ndarray:
    """C_i = max(0, dev_i + C_(i-1)), C_0 = c0, vectorised (Lindley)."""
    s = np.cumsum(dev)
    return s - np.minimum(np.minimum.accumulate(s), -c0)


def _run_lengths_nonzero(c: np.ndarray) -> np.ndarray:
    idx = np.arange(1, c.size + 1)
    last_zero = np.maximum.accumulate(np.where(c <= 0, idx, 0))
    return idx - last_zero


def _cusum_iv(data, mu, sigma, k, h, K, H, headstart, n):
    x = as_array(data, "data", ndim=1, min_size=1)
    mu, sigma = _phase_iv(mu, sigma)
    if mu is None and x.size < 2:
        raise fail("data", f"needs at least 2 values to estimate mu and sigma, got {x.size}")
    k = as_float(k, "k", nonnegative=True)
    h = as_float(h, "h", positive=True)
    K = as_float(K, "K", nonnegative=True, allow_none=True)
    H = as_float(H, "H", positive=True, allow_none=True)
    headstart = as_float(headstart, "headstart", lo=0.0, hi=1.0)
    return x, mu, sigma, k, h, K, H, headstart, as_int(n, "n", lo=1)


def cusum(data, *, mu=None, sigma=None, k=0.5, h=5.0, K=None, H=None, headstart=0.0, n=1):
    """Tabular (two one-sided) CUSUM chart.

    Parameters
    ----------
    data : array_like, shape (m,)
        Individuals, or subgroup means of ``n`` values.
    mu, sigma : float, optional
        Phase II target and process standard deviation of single values; phase I default:
        mean and MR-bar / d2 of ``data``.
    k, h : float
        Reference value and decision interval in standard deviations of a plotted value
        (0.5 and 4 or 5 are usual).
    K, H : float, optional
        The same in data units; override ``k`` and ``h``.
    headstart : float
        Fast initial response: C+_0 = C-_0 = headstart * H (0.5 for FIR).
    n : int

    Returns
    -------
    CusumChart

    References
    ----------
    ISO 7870-4:2021 clause 7; Montgomery (2009) eqs. (9.2)-(9.3), (9.6); Lucas & Crosier (1982).
    """
    x, mu, sigma, k, h, K, H, headstart, n = _cusum_iv(data, mu, sigma, k, h, K, H, headstart, n)
    phase = "II"
    if mu is None:
        phase = "I"
        mu = float(x[0] + np.mean(x - x[0]))
        sigma = float(np.mean(np.abs(np.diff(x)))) / chart_constants(2).d2 * np.sqrt(n)
        if sigma == 0 and (K is None or H is None):
            warn("all moving ranges are zero: K and H in data units are zero")
    s1 = sigma / np.sqrt(n)
    KK = k * s1 if K is None else K
    HH = h * s1 if H is None else H
    c0 = headstart * HH
    up = one_sided_cusum(x - mu - KK, c0)
    lo = one_sided_cusum(mu - KK - x, c0)
    nu, nl = _run_lengths_nonzero(up), _run_lengths_nonzero(lo)
    nanv = np.nan
    upper = panel("cusum_upper", up, 0.0, nanv, HH)
    lower = panel("cusum_lower", lo, 0.0, nanv, HH)
    sig = np.union1d(upper.beyond, lower.beyond)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(up[sig] > HH, mu + KK + up[sig] / np.maximum(nu[sig], 1), mu - KK - lo[sig] / np.maximum(nl[sig], 1))
    return CusumChart(upper, lower, nu, nl, float(mu), float(s1), float(KK), float(HH), headstart, sig, est, phase)
