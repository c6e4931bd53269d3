"""Attribute control charts: p, np (nonconforming units), c, u (nonconformities), variable sample sizes.

References
----------
.. [1] ISO 7870-2:2013 clause 9 and Table 4 (control limits for attribute charts).
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed. (2009), sections 7.2
       (p chart, variable sample size 7.2.2), 7.3 (c and u charts, 7.3.2 variable sample size).
.. [3] NIST/SEMATECH e-Handbook of Statistical Methods, sections 6.3.3.1 (c) and 6.3.3.2 (p).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, fail, warn
from jingce.kernels.spc._common import ChartPanel, k_iv, max_iter_iv, panel
from jingce.kernels.spc.shewhart import _iterate

__all__ = ["AttributeChart", "c_chart", "np_chart", "p_chart", "u_chart"]


@dataclass(frozen=True, slots=True)
class AttributeChart:
    """An attribute chart.

    Attributes
    ----------
    chart : ChartPanel
        Plotted proportions / counts / rates with per-point limits (variable with the sample size);
        lower limits below zero are set to zero, p-chart upper limits above one to one.
    kind : str
        ``"p"``, ``"np"``, ``"c"`` or ``"u"``.
    center : float
        p-bar, n p-bar, c-bar or u-bar (phase I), or the given standard value (phase II).
    sample_sizes : ndarray
        n_i (inspected units; 1 for the c chart).
    phase : str
    excluded : ndarray of int
        Samples dropped from the estimate in phase I.
    iterations : int
    """

    chart: ChartPanel
    kind: str
    center: float
    sample_sizes: np.ndarray
    phase: str
    excluded: np.ndarray
    iterations: int

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.chart,)


def _counts_iv(counts, sizes, standard, *, binomial: bool, standard_name: str, k, max_iter):
    c = as_array(counts, "counts", ndim=1, min_size=1)
    if np.any(c < 0):
        raise fail("counts", f"must be >= 0; first negative at index {int(np.flatnonzero(c < 0)[0])}")
    if binomial and np.any(c != np.round(c)):
        raise fail("counts", "must be whole numbers of nonconforming units")
    n = as_array(sizes, "sample_sizes", ndim=(0, 1))
    n = np.broadcast_to(n, c.shape).astype(float) if n.ndim == 0 else n
    if n.shape != c.shape:
        raise fail("sample_sizes", f"must be one number or one per sample ({c.size}), got {n.size}")
    if np.any(n <= 0):
        raise fail("sample_sizes", "must be > 0")
    if binomial and np.any(c > n):
        i = int(np.flatnonzero(c > n)[0])
        raise fail("counts", f"must not exceed the sample size; sample {i} has {c[i]:g} > {n[i]:g}")
    std = as_float(standard, standard_name, nonnegative=True, allow_none=True)
    if binomial and std is not None and std > 1:
        raise fail(standard_name, f"must be a proportion in [0, 1], got {std}")
    if std is None and c.size < 2:
        raise fail("counts", f"needs at least 2 samples to estimate the limits, got {c.size}")
    return c, n, std, k_iv(k), max_iter_iv(max_iter)


def _attribute(kind, stat, sizes, counts, std, k, drop, max_iter, centre_of, half_width, clip_one):
    m = stat.size
    if std is not None:
        centre, excluded, it, phase = std, np.zeros(0, np.int64), 1, "II"
    else:
        def beyond(cen, inc):
            hw = half_width(cen)
            return np.flatnonzero(((stat > cen + hw) | (stat < cen - hw)) & inc)

        centre, excluded, it = _iterate(np.ones(m, bool), centre_of, beyond, drop, max_iter)
        phase = "I"
    hw = half_width(centre)
    if centre == 0:
        warn(f"{kind} chart: no nonconformities at all, the limits collapse onto zero")
    lcl = np.maximum(centre - hw, 0.0)
    ucl = np.minimum(centre + hw, 1.0) if clip_one else centre + hw
    return AttributeChart(panel(kind, stat, centre, lcl, ucl), kind, float(centre), sizes, phase, excluded, it)


def p_chart(counts, sample_sizes, *, p=None, k=3.0, drop_out_of_control=False, max_iter=10):
    """p chart: fraction nonconforming with (possibly variable) sample sizes.

    Parameters
    ----------
    counts : array_like of int, shape (m,)
        Nonconforming units d_i in each sample.
    sample_sizes : int or array_like, shape (m,)
        Sample sizes n_i (each >= d_i).
    p : float, optional
        Phase II standard fraction nonconforming; default p-bar = sum d / sum n.
    k : float
    drop_out_of_control, max_iter
        Phase I re-estimation as for :func:`~jingce.kernels.spc.xbar_r`.

    Returns
    -------
    AttributeChart
        Limits p-bar +- k sqrt(p-bar (1 - p-bar) / n_i), clipped to [0, 1].

    References
    ----------
    ISO 7870-2:2013 Table 4; Montgomery (2009) eqs. (7.8) and section 7.2.2.
    """
    d, n, p, k, max_iter = _counts_iv(counts, sample_sizes, p, binomial=True, standard_name="p", k=k, max_iter=max_iter)
    return _attribute(
        "p", d / n, n, d, p, k, drop_out_of_control, max_iter,
        lambda inc: float(d[inc].sum() / n[inc].sum()),
        lambda c: k * np.sqrt(c * (1 - c) / n), clip_one=True,
    )


def np_chart(counts, sample_size, *, p=None, k=3.0, drop_out_of_control=False, max_iter=10):
    """np chart: number nonconforming, constant sample size.

    Parameters
    ----------
    counts : array_like of int, shape (m,)
    sample_size : int
        The common sample size n.
    p : float, optional
        Phase II standard fraction nonconforming.

    Returns
    -------
    AttributeChart
        ``center`` is n p-bar; limits n p-bar +- k sqrt(n p-bar (1 - p-bar)).

    References
    ----------
    ISO 7870-2:2013 Table 4; Montgomery (2009) eq. (7.13).
    """
    if np.ndim(sample_size) != 0:
        raise fail("sample_size", "must be one number (use p_chart for variable sample sizes)")
    d, n, p, k, max_iter = _counts_iv(counts, sample_size, p, binomial=True, standard_name="p", k=k, max_iter=max_iter)
    nn = float(n[0])
    res = _attribute(
        "np", d, n, d, None if p is None else p * nn, k, drop_out_of_control, max_iter,
        lambda inc: float(d[inc].mean()),
        lambda c: k * np.sqrt(c * (1 - c / nn)), clip_one=False,
    )
    return res


def c_chart(counts, *, c=None, k=3.0, drop_out_of_control=False, max_iter=10):
    """c chart: nonconformities per inspection unit of constant size.

    Parameters
    ----------
    counts : array_like, shape (m,)
        Nonconformities c_i (>= 0).
    c : float, optional
        Phase II standard mean count.

    Returns
    -------
    AttributeChart
        Limits c-bar +- k sqrt(c-bar), lower limit at least 0.

    References
    ----------
    ISO 7870-2:2013 Table 4; NIST/SEMATECH e-Handbook 6.3.3.1.
    """
    x, n, c, k, max_iter = _counts_iv(counts, 1.0, c, binomial=False, standard_name="c", k=k, max_iter=max_iter)
    return _attribute(
        "c", x, n, x, c, k, drop_out_of_control, max_iter,
        lambda inc: float(x[inc].mean()),
        lambda cc: k * np.sqrt(cc), clip_one=False,
    )


def u_chart(counts, units, *, u=None, k=3.0, drop_out_of_control=False, max_iter=10):
    """u chart: nonconformities per unit with a (possibly variable) number of inspection units.

    Parameters
    ----------
    counts : array_like, shape (m,)
        Nonconformities c_i.
    units : float or array_like, shape (m,)
        Number of inspection units n_i in each sample (may be fractional).
    u : float, optional
        Phase II standard rate.

    Returns
    -------
    AttributeChart
        Limits u-bar +- k sqrt(u-bar / n_i), u-bar = sum c / sum n.

    References
    ----------
    ISO 7870-2:2013 Table 4; Montgomery (2009) section 7.3.2, eq. (7.20), Example 7.6.
    """
    x, n, u, k, max_iter = _counts_iv(counts, units, u, binomial=False, standard_name="u", k=k, max_iter=max_iter)
    return _attribute(
        "u", x / n, n, x, u, k, drop_out_of_control, max_iter,
        lambda inc: float(x[inc].sum() / n[inc].sum()),
        lambda cc: k * np.sqrt(cc / n), clip_one=False,
    )
