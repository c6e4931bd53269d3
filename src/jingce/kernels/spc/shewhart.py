"""Shewhart charts for variables: X-bar-R, X-bar-s, individuals and moving range, short-run Z-MR.

Each chart runs in phase I (limits estimated from the data, optionally dropping subgroups beyond
the limits and re-estimating, which is recorded) or in phase II ("standard values given":
``mu`` and ``sigma`` taken from stored limits or a specification of the process).

References
----------
.. [1] ISO 7870-2:2013 (GB/T 17989.2-2020), Control charts - Part 2: Shewhart control charts,
       clauses 6-8, Table 2 (factors) and Table 3 (control limit formulae).
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed., Wiley 2009,
       sections 6.2 (X-bar and R), 6.3 (X-bar and s), 6.4 (individuals), 10.1 (short runs).
.. [3] D. J. Wheeler, Short Run SPC, SPC Press 1991 (Z-MR charts for several part types).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingce.kernels._validation import as_array, as_float, as_int, fail, one_of, warn
from jingce.kernels.spc._common import ChartPanel, k_iv, max_iter_iv, panel
from jingce.kernels.spc.constants import ChartConstants, chart_constants

__all__ = ["IMRChart", "XbarRChart", "XbarSChart", "ZMRChart", "imr", "xbar_r", "xbar_s", "zmr"]


@dataclass(frozen=True, slots=True)
class XbarRChart:
    """X-bar and R chart.

    Attributes
    ----------
    xbar, r : ChartPanel
        The two panels (plotted subgroup means and ranges, centre lines, limits, points beyond).
    grand_mean : float
        X-double-bar (phase I) or the given ``mu`` (phase II).
    r_bar : float
        Mean range of the subgroups used for the limits (phase I) or d2 * sigma (phase II).
    sigma : float
        Within-subgroup standard deviation, R-bar / d2 (phase I) or the given ``sigma``.
    subgroup_size, n_subgroups : int
    phase : str
        ``"I"`` (estimated) or ``"II"`` (standard values given).
    excluded : ndarray of int
        Subgroups dropped from the estimate in phase I (beyond the limits), in order of removal.
    iterations : int
        Number of estimates made (1 if nothing was dropped).
    constants : ChartConstants
    """

    xbar: ChartPanel
    r: ChartPanel
    grand_mean: float
    r_bar: float
    sigma: float
    subgroup_size: int
    n_subgroups: int
    phase: str
    excluded: np.ndarray
    iterations: int
    constants: ChartConstants

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.xbar, self.r)


@dataclass(frozen=True, slots=True)
class XbarSChart:
    """X-bar and s chart (fields as :class:`XbarRChart`, with ``s_bar`` = mean subgroup standard deviation)."""

    xbar: ChartPanel
    s: ChartPanel
    grand_mean: float
    s_bar: float
    sigma: float
    subgroup_size: int
    n_subgroups: int
    phase: str
    excluded: np.ndarray
    iterations: int
    constants: ChartConstants

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.xbar, self.s)


@dataclass(frozen=True, slots=True)
class IMRChart:
    """Individuals and moving range chart.

    Attributes
    ----------
    i, mr : ChartPanel
        Individuals panel and moving range panel (``mr.statistic[:span-1]`` is NaN).
    mean : float
        Centre line of the individuals (phase I mean, or the given ``mu``).
    mr_bar : float
        Mean moving range used for the limits.
    sigma : float
        MR-bar / d2(span) (phase I) or the given ``sigma``.
    span : int
        Moving range span (2 = consecutive pairs).
    n : int
    phase : str
    excluded : ndarray of int
        Points dropped from the estimate in phase I.
    iterations : int
    constants : ChartConstants
        Factors for subgroup size ``span``.
    """

    i: ChartPanel
    mr: ChartPanel
    mean: float
    mr_bar: float
    sigma: float
    span: int
    n: int
    phase: str
    excluded: np.ndarray
    iterations: int
    constants: ChartConstants

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.i, self.mr)


def _phase_iv(mu, sigma) -> tuple[float | None, float | None]:
    mu = as_float(mu, "mu", allow_none=True)
    sigma = as_float(sigma, "sigma", positive=True, allow_none=True)
    if (mu is None) != (sigma is None):
        raise fail("mu/sigma", "must be given together (phase II, standard values given) or both omitted (phase I)")
    return mu, sigma


def _xbar_iv(data, n_range, mu, sigma, k, constants, max_iter):
    x = as_array(data, "data", ndim=2)
    m, n = x.shape
    if not n_range[0] <= n <= n_range[1]:
        raise fail("data", f"subgroup size (number of columns) must be in {n_range[0]}..{n_range[1]}, got {n}")
    mu, sigma = _phase_iv(mu, sigma)
    if m < (1 if mu is not None else 2):
        raise fail("data", f"needs at least {1 if mu is not None else 2} subgroups (rows), got {m}")
    one_of(constants, "constants", ("exact", "tabled"))
    return x, mu, sigma, k_iv(k), max_iter_iv(max_iter)


def _subgroup_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, ranges and standard deviations of the rows, on deviations from a reference value."""
    ref = x[0, 0]
    d = x - ref
    mean_d = d.mean(axis=1)
    r = d.max(axis=1) - d.min(axis=1)
    s = np.sqrt(((d - mean_d[:, None]) ** 2).sum(axis=1) / (x.shape[1] - 1))
    return mean_d + ref, r, s


def _iterate(included: np.ndarray, estimate, beyond, drop: bool, max_iter: int):
    """Estimate, drop points beyond (phase I), re-estimate; returns (params, excluded, iterations)."""
    excluded: list[int] = []
    it = 0
    while True:
        it += 1
        params = estimate(included)
        if not drop or it >= max_iter:
            break
        out = beyond(params, included)
        if out.size == 0:
            break
        if out.size >= included.sum():
            warn("every remaining point is beyond the limits; stopped dropping points")
            break
        included = included.copy()
        included[out] = False
        excluded.extend(int(i) for i in out)
    return params, np.asarray(excluded, dtype=np.int64), it


def xbar_r(data, *, mu=None, sigma=None, k=3.0, constants="exact", drop_out_of_control=False, max_iter=10):
    """X-bar and R control chart.

    Parameters
    ----------
    data : array_like, shape (m, n)
        m subgroups (rows) of n observations, 2 <= n <= 25.
    mu, sigma : float, optional
        Phase II: the process mean and within-subgroup standard deviation to monitor against
        (standard values given, ISO 7870-2 Table 3). Omit both for phase I.
    k : float
        Limit width in standard errors (3).
    constants : {"exact", "tabled"}
        Factors from the integrals or as printed in the tables (see :mod:`.constants`).
    drop_out_of_control : bool
        Phase I: drop subgroups beyond the limits of either panel and re-estimate until none is
        beyond (at most ``max_iter`` estimates); the dropped subgroups are in ``excluded``.
    max_iter : int

    Returns
    -------
    XbarRChart

    References
    ----------
    ISO 7870-2:2013 clause 7 and Table 3; Montgomery (2009) section 6.2.1, eqs. (6.4)-(6.6).
    """
    x, mu, sigma, k, max_iter = _xbar_iv(data, (2, 25), mu, sigma, k, constants, max_iter)
    m, n = x.shape
    cc = chart_constants(n, constants, k)
    means, ranges, _ = _subgroup_stats(x)
    if mu is not None:
        excluded, it = np.zeros(0, np.int64), 1
        centre_x, lcl_x, ucl_x = mu, mu - cc.A * sigma, mu + cc.A * sigma
        centre_r, lcl_r, ucl_r = cc.d2 * sigma, cc.D1 * sigma, cc.D2 * sigma
        return _xbar_r_result(means, ranges, (centre_x, lcl_x, ucl_x), (centre_r, lcl_r, ucl_r), mu, cc.d2 * sigma,
                              sigma, n, m, "II", excluded, it, cc)

    def estimate(inc):
        return float(np.mean(means[inc])), float(np.mean(ranges[inc]))

    def beyond(p, inc):
        gm, rb = p
        out = (means > gm + cc.A2 * rb) | (means < gm - cc.A2 * rb) | (ranges > cc.D4 * rb) | (ranges < cc.D3 * rb)
        return np.flatnonzero(out & inc)

    (gm, rb), excluded, it = _iterate(np.ones(m, bool), estimate, beyond, drop_out_of_control, max_iter)
    if rb == 0:
        warn("all subgroup ranges are zero: the limits collapse onto the centre line")
    return _xbar_r_result(means, ranges, (gm, gm - cc.A2 * rb, gm + cc.A2 * rb), (rb, cc.D3 * rb, cc.D4 * rb),
                          gm, rb, rb / cc.d2, n, m, "I", excluded, it, cc)


def _xbar_r_result(means, ranges, xl, rl, gm, rb, sigma, n, m, phase, excluded, it, cc):
    return XbarRChart(
        xbar=panel("xbar", means, *xl),
        r=panel("r", ranges, *rl),
        grand_mean=float(gm), r_bar=float(rb), sigma=float(sigma), subgroup_size=n, n_subgroups=m, phase=phase,
        excluded=excluded, iterations=it, constants=cc,
    )


def xbar_s(data, *, mu=None, sigma=None, k=3.0, constants="exact", drop_out_of_control=False, max_iter=10):
    """X-bar and s control chart.

    Parameters
    ----------
    data : array_like, shape (m, n)
        m subgroups (rows) of n observations, 2 <= n <= 100.
    mu, sigma, k, constants, drop_out_of_control, max_iter
        As for :func:`xbar_r`; sigma is estimated as s-bar / c4.

    Returns
    -------
    XbarSChart

    References
    ----------
    ISO 7870-2:2013 clause 7 and Table 3; Montgomery (2009) section 6.3.1, eqs. (6.27)-(6.29).
    """
    x, mu, sigma, k, max_iter = _xbar_iv(data, (2, 100), mu, sigma, k, constants, max_iter)
    m, n = x.shape
    cc = chart_constants(n, constants, k)
    means, _, sds = _subgroup_stats(x)
    if mu is not None:
        return XbarSChart(
            xbar=panel("xbar", means, mu, mu - cc.A * sigma, mu + cc.A * sigma),
            s=panel("s", sds, cc.c4 * sigma, cc.B5 * sigma, cc.B6 * sigma),
            grand_mean=mu, s_bar=cc.c4 * sigma, sigma=sigma, subgroup_size=n, n_subgroups=m, phase="II",
            excluded=np.zeros(0, np.int64), iterations=1, constants=cc,
        )

    def estimate(inc):
        return float(np.mean(means[inc])), float(np.mean(sds[inc]))

    def beyond(p, inc):
        gm, sb = p
        out = (means > gm + cc.A3 * sb) | (means < gm - cc.A3 * sb) | (sds > cc.B4 * sb) | (sds < cc.B3 * sb)
        return np.flatnonzero(out & inc)

    (gm, sb), excluded, it = _iterate(np.ones(m, bool), estimate, beyond, drop_out_of_control, max_iter)
    if sb == 0:
        warn("all subgroup standard deviations are zero: the limits collapse onto the centre line")
    return XbarSChart(
        xbar=panel("xbar", means, gm, gm - cc.A3 * sb, gm + cc.A3 * sb),
        s=panel("s", sds, sb, cc.B3 * sb, cc.B4 * sb),
        grand_mean=gm, s_bar=sb, sigma=sb / cc.c4, subgroup_size=n, n_subgroups=m, phase="I",
        excluded=excluded, iterations=it, constants=cc,
    )


def _moving_range(x: np.ndarray, span: int) -> np.ndarray:
    mr = np.full(x.shape[0], np.nan)
    if x.shape[0] >= span:
        w = np.lib.stride_tricks.sliding_window_view(x, span)
        mr[span - 1:] = w.max(axis=1) - w.min(axis=1)
    return mr


def _imr_iv(data, mu, sigma, k, span, constants, max_iter):
    x = as_array(data, "data", ndim=1)
    mu, sigma = _phase_iv(mu, sigma)
    span = as_int(span, "span", lo=2, hi=25)
    need = 1 if mu is not None else span
    if x.size < need:
        raise fail("data", f"needs at least {need} values, got {x.size}")
    one_of(constants, "constants", ("exact", "tabled"))
    return x, mu, sigma, k_iv(k), span, max_iter_iv(max_iter)


def imr(data, *, mu=None, sigma=None, k=3.0, span=2, constants="exact", drop_out_of_control=False, max_iter=10):
    """Individuals (I) and moving range (MR) chart.

    Parameters
    ----------
    data : array_like, shape (n,)
        Individual values in time order.
    mu, sigma : float, optional
        Phase II standard values (both or neither).
    k : float
        Limit width in standard deviations (3).
    span : int
        Moving range span (2: |x_i - x_(i-1)|).
    constants : {"exact", "tabled"}
    drop_out_of_control : bool
        Phase I: drop individuals beyond the I limits and re-estimate (the moving ranges that
        involve a dropped point are left out of MR-bar as well).
    max_iter : int

    Returns
    -------
    IMRChart

    References
    ----------
    ISO 7870-2:2013 clause 8.2 (individuals charts) and Table 3; Montgomery (2009) section 6.4,
    eq. (6.33); NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.2.2.
    """
    x, mu, sigma, k, span, max_iter = _imr_iv(data, mu, sigma, k, span, constants, max_iter)
    cc = chart_constants(span, constants, k)
    mr = _moving_range(x, span)
    if mu is not None:
        return IMRChart(
            i=panel("i", x, mu, mu - k * sigma, mu + k * sigma),
            mr=panel("mr", mr, cc.d2 * sigma, cc.D1 * sigma, cc.D2 * sigma),
            mean=mu, mr_bar=cc.d2 * sigma, sigma=sigma, span=span, n=x.size, phase="II",
            excluded=np.zeros(0, np.int64), iterations=1, constants=cc,
        )
    ref = x[0]

    def estimate(inc):
        # a moving range counts only if all points of its window are included
        ok = np.ones(x.size, bool)
        ok[: span - 1] = False
        for lag in range(span):
            ok[span - 1:] &= inc[span - 1 - lag: x.size - lag]
        mrs = mr[ok]
        return ref + float(np.mean(x[inc] - ref)), float(np.mean(mrs)) if mrs.size else float("nan")

    def beyond(p, inc):
        c, mrb = p
        half = k * mrb / cc.d2
        return np.flatnonzero(((x > c + half) | (x < c - half)) & inc)

    (c, mrb), excluded, it = _iterate(np.ones(x.size, bool), estimate, beyond, drop_out_of_control, max_iter)
    if not mrb > 0:
        warn("the moving ranges are all zero (or undefined): the limits collapse onto the centre line")
    half = k * mrb / cc.d2
    return IMRChart(
        i=panel("i", x, c, c - half, c + half),
        mr=panel("mr", mr, mrb, cc.D3 * mrb, cc.D4 * mrb),
        mean=c, mr_bar=mrb, sigma=mrb / cc.d2, span=span, n=x.size, phase="I",
        excluded=excluded, iterations=it, constants=cc,
    )


@dataclass(frozen=True, slots=True)
class ZMRChart:
    """Short-run standardised individuals (Z) and moving range chart over several part types.

    Attributes
    ----------
    z, mr : ChartPanel
        Standardised values z = (x - target_g) / sigma_g with limits +-k, and their moving
        ranges against the standard-given limits for sigma = 1: centre d2(2), limits D1, D2.
    groups : ndarray of str
        Part types in order of first appearance.
    target, sigma : ndarray
        Target and standard deviation of each part type (given, or estimated: the part type's
        mean and its MR-bar / d2 over consecutive values of the same type).
    group_index : ndarray of int
        Part type of each value (index into ``groups``).
    """

    z: ChartPanel
    mr: ChartPanel
    groups: np.ndarray
    target: np.ndarray
    sigma: np.ndarray
    group_index: np.ndarray

    @property
    def panels(self) -> tuple[ChartPanel, ...]:
        return (self.z, self.mr)


def _zmr_iv(data, groups, target, sigma, k):
    x = as_array(data, "data", ndim=1, min_size=2)
    g = np.asarray(groups)
    if g.shape != x.shape:
        raise fail("groups", f"must hold one part type per value ({x.size}), got shape {g.shape}")
    names, first, inv = np.unique(g.astype(str), return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    names, inv = names[order], rank[inv]
    out = []
    for arg, val in (("target", target), ("sigma", sigma)):
        if val is None:
            out.append(None)
            continue
        if isinstance(val, dict):
            missing = [str(nm) for nm in names if str(nm) not in {str(kk) for kk in val}]
            if missing:
                raise fail(arg, f"has no value for part type(s) {missing}")
            lookup = {str(kk): vv for kk, vv in val.items()}
            val = [lookup[str(nm)] for nm in names]
        arr = as_array(val, arg, ndim=1)
        if arr.size != names.size:
            raise fail(arg, f"must hold one value per part type ({names.size}) in order of first appearance")
        if arg == "sigma" and np.any(arr <= 0):
            raise fail(arg, "must be > 0 for every part type")
        out.append(arr)
    return x, names, inv.astype(np.int64), out[0], out[1], k_iv(k)


def zmr(data, groups, *, target=None, sigma=None, k=3.0):
    """Short-run Z-MR chart: several part types standardised onto one chart.

    Parameters
    ----------
    data : array_like, shape (n,)
        Values in time order (all part types interleaved as produced).
    groups : array_like, shape (n,)
        Part type (any label) of each value.
    target : array_like or mapping, optional
        Target (nominal) per part type, in order of first appearance or as ``{type: value}``;
        default: each type's mean.
    sigma : array_like or mapping, optional
        Standard deviation per part type; default: MR-bar / d2 of consecutive values of that type
        (a type with a single value gets the pooled estimate over all types).
    k : float

    Returns
    -------
    ZMRChart

    References
    ----------
    D. J. Wheeler, Short Run SPC (1991), ch. 5 (zed charts); Montgomery (2009) section 10.1.2
    (standardized control charts for short production runs).
    """
    x, names, gi, tgt, sig, k = _zmr_iv(data, groups, target, sigma, k)
    ng = names.size
    counts = np.bincount(gi, minlength=ng)
    if tgt is None:
        # per-type mean on deviations from the type's first value
        first = x[np.unique(gi, return_index=True)[1]]
        tgt = first + np.bincount(gi, weights=x - first[gi], minlength=ng) / counts
    if sig is None:
        order = np.argsort(gi, kind="stable")
        xs, gs = x[order], gi[order]
        same = gs[1:] == gs[:-1]
        mr_within = np.abs(np.diff(xs))[same]
        mr_sum = np.bincount(gs[1:][same], weights=mr_within, minlength=ng)
        mr_cnt = np.bincount(gs[1:][same], minlength=ng)
        pooled = mr_sum.sum() / max(mr_cnt.sum(), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mrb = np.where(mr_cnt > 0, mr_sum / np.maximum(mr_cnt, 1), pooled)
        sig = mrb / chart_constants(2).d2
        if np.any(~(sig > 0)):
            warn("a part type has zero moving ranges: its standardised values are infinite or undefined")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - tgt[gi]) / sig[gi]
    cc = chart_constants(2, "exact", k)
    mr = _moving_range(z, 2)
    return ZMRChart(
        z=panel("z", z, 0.0, -k, k),
        mr=panel("mr", mr, cc.d2, cc.D1, cc.D2),
        groups=names, target=tgt, sigma=sig, group_index=gi,
    )
