"""Process capability and performance indices for one characteristic.

References
----------
.. [1] ISO 22514-2:2017 (capability and performance of time-dependent process models),
       ISO 22514-4:2016 (process capability estimates and performance measures).
.. [2] D. C. Montgomery, Introduction to Statistical Quality Control, 6th ed. (2009), section 8.3,
       eqs. (8.5)-(8.10), (8.19)-(8.20) (confidence intervals; Examples 8.4 and 8.5).
.. [3] A. F. Bissell, "How reliable is your capability index?", Applied Statistics 39 (1990) 331-340.
.. [4] R. A. Boyles, "The Taguchi capability index", J. Quality Technology 23 (1991) 17-26 (Cpm).
.. [5] AIAG, Statistical Process Control Reference Manual, 2nd ed. (2005), chapter IV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from jingce.kernels._validation import as_array, as_float, as_int, fail, spec_limits, warn
from jingce.kernels.capability.models import NORMAL_MODELS, DistributionModel, choose_model
from jingce.kernels.capability.nonnormal import (
    FAMILY_NAMES,
    FittedDistribution,
    Transform,
    best_fit,
    box_cox,
    fit_family,
    johnson,
)
from jingce.kernels.capability.normality import NormalityTest, anderson_darling
from jingce.kernels.capability.strategy import EvaluationStrategy
from jingce.kernels.capability.strategy import strategy as make_strategy
from jingce.kernels.spc.constants import chart_constants

__all__ = ["CapabilityResult", "capability", "within_sigma"]


@dataclass(frozen=True, slots=True)
class CapabilityResult:
    """Capability (within-subgroup sigma) and performance (overall sigma) of one characteristic.

    Attributes
    ----------
    n, n_subgroups, subgroup_size : int
    mean : float
    sigma_within, sigma_overall : float
        Short-term sigma (``sigma_method``) and the sample standard deviation of all values.
    sigma_method : str
    lsl, usl, target : float or None
    cp, cpk, cpl, cpu : float
        Capability indices (NaN where a specification limit is missing; inf for zero spread).
    pp, ppk, ppl, ppu : float
        Performance indices.
    cpm : float
        Taguchi index (USL - LSL) / (6 sqrt(s^2 + (mean - T)^2)), two-sided only.
    cp_ci, cpk_ci, pp_ci, ppk_ci, cpm_ci : tuple of float
        Two-sided confidence intervals at ``strategy.ci_level``: chi-square for Cp/Pp
        (degrees of freedom ``ci_df``), Bissell's normal approximation for Cpk/Ppk, Boyles' for Cpm.
    ci_df : float
        Degrees of freedom behind the within sigma (m(n-1) for subgroups, n-1 otherwise).
    ppm_within, ppm_overall : tuple of float
        Expected parts per million below LSL, above USL and in total.
    normality : NormalityTest
        Anderson-Darling test of all values.
    method : str
        ``"normal"``, ``"box-cox"``, ``"johnson_su"``, ``"johnson_sb"`` or ``"percentile:<family>"``.
    model : DistributionModel or None
        ISO 22514-2 model when the strategy chooses it from the data.
    fitted : FittedDistribution or None
        Distribution behind the percentile method.
    transform : Transform or None
        Box-Cox or Johnson transformation used.
    quantiles : tuple of float
        X_0.135%, X_50%, X_99.865% of the distribution used (normal: mean -+ 3 sigma_overall).
    strategy : EvaluationStrategy
    """

    n: int
    n_subgroups: int
    subgroup_size: int
    mean: float
    sigma_within: float
    sigma_overall: float
    sigma_method: str
    lsl: float | None
    usl: float | None
    target: float | None
    cp: float
    cpk: float
    cpl: float
    cpu: float
    pp: float
    ppk: float
    ppl: float
    ppu: float
    cpm: float
    cp_ci: tuple
    cpk_ci: tuple
    pp_ci: tuple
    ppk_ci: tuple
    cpm_ci: tuple
    ci_df: float
    ppm_within: tuple
    ppm_overall: tuple
    normality: NormalityTest
    method: str
    model: DistributionModel | None
    fitted: FittedDistribution | None
    transform: Transform | None
    quantiles: tuple
    strategy: EvaluationStrategy


def _capability_iv(values, lsl, usl, target, subgroup_size, strategy, overrides):
    x = as_array(values, "values", ndim=(1, 2))
    if x.ndim == 2:
        if subgroup_size not in (1, x.shape[1]):
            raise fail("subgroup_size", f"must match the columns of 2-D values ({x.shape[1]})")
        subgroup_size = x.shape[1]
        x = x.ravel()
    n_sub = as_int(subgroup_size, "subgroup_size", lo=1)
    if x.size < 2:
        raise fail("values", f"needs at least 2 values, got {x.size}")
    if n_sub > 1 and x.size % n_sub:
        raise fail("values", f"count ({x.size}) must be a multiple of subgroup_size ({n_sub})")
    if n_sub > 1 and x.size // n_sub < 2:
        raise fail("values", "needs at least 2 subgroups")
    lo, hi = spec_limits(lsl, usl)
    tgt = as_float(target, "target", allow_none=True)
    st = make_strategy(strategy, **overrides)
    if st.sigma_within == "rbar" and n_sub > 25:
        raise fail("subgroup_size", f"must be in 2..25 for R-bar/d2, got {n_sub}")
    if st.sigma_within in ("rbar", "sbar", "pooled") and n_sub < 2 and overrides.get("sigma_within") is not None:
        raise fail("subgroup_size", f"must be >= 2 for sigma_within={st.sigma_within!r}")
    return x, lo, hi, tgt, n_sub, st


def within_sigma(x2: np.ndarray, method: str, constants: str = "exact") -> tuple[float, str, float]:
    """Short-term sigma of subgroups ``x2`` (m x n; n = 1 for individuals): (sigma, method, df)."""
    m, n = x2.shape
    if method == "auto":
        method = "mr" if n == 1 else ("rbar" if n <= 9 else "sbar")
    if method == "mr":
        flat = x2.ravel()
        mr = np.abs(np.diff(flat))
        return float(mr.mean() / chart_constants(2, constants).d2), "mr", float(flat.size - 1)
    d = x2 - x2[0, 0]
    if method == "rbar":
        r = d.max(axis=1) - d.min(axis=1)
        return float(r.mean() / chart_constants(n, constants).d2), "rbar", float(m * (n - 1))
    mean = d.mean(axis=1, keepdims=True)
    ss = np.sum((d - mean) ** 2, axis=1)
    if method == "sbar":
        s = np.sqrt(ss / (n - 1))
        return float(s.mean() / chart_constants(n, constants).c4), "sbar", float(m * (n - 1))
    return float(np.sqrt(ss.sum() / (m * (n - 1)))), "pooled", float(m * (n - 1))


def _indices(mean, sigma, lo, hi):
    sigma = np.float64(sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        cpu = (hi - mean) / (3 * sigma) if hi is not None else np.nan
        cpl = (mean - lo) / (3 * sigma) if lo is not None else np.nan
        cp = (hi - lo) / (6 * sigma) if lo is not None and hi is not None else np.nan
    cpk = np.nanmin([cpl, cpu]) if not (np.isnan(cpl) and np.isnan(cpu)) else np.nan
    return float(cp), float(cpk), float(cpl), float(cpu)


def _percentile_indices(q_lo, q_50, q_hi, lo, hi):
    q_lo, q_50, q_hi = np.float64(q_lo), np.float64(q_50), np.float64(q_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        pu = (hi - q_50) / (q_hi - q_50) if hi is not None else np.nan
        pl = (q_50 - lo) / (q_50 - q_lo) if lo is not None else np.nan
        p = (hi - lo) / (q_hi - q_lo) if lo is not None and hi is not None else np.nan
    pk = np.nanmin([pl, pu]) if not (np.isnan(pl) and np.isnan(pu)) else np.nan
    return float(p), float(pk), float(pl), float(pu)


def cp_interval(cp: float, df: float, level: float) -> tuple[float, float]:
    """Chi-square interval for Cp or Pp: Cp sqrt(chi2_(a/2, df)/df) .. Cp sqrt(chi2_(1-a/2, df)/df)."""
    a = 1 - level
    if not np.isfinite(cp) or df < 1:
        return (np.nan, np.nan)
    return (float(cp * np.sqrt(stats.chi2.ppf(a / 2, df) / df)), float(cp * np.sqrt(stats.chi2.ppf(1 - a / 2, df) / df)))


def cpk_interval(cpk: float, n: float, level: float) -> tuple[float, float]:
    """Bissell (1990): Cpk -+ z sqrt(1/(9n) + Cpk^2 / (2(n-1)))."""
    if not np.isfinite(cpk) or n < 2:
        return (np.nan, np.nan)
    z = stats.norm.ppf(1 - (1 - level) / 2)
    half = z * np.sqrt(1 / (9 * n) + cpk * cpk / (2 * (n - 1)))
    return (float(cpk - half), float(cpk + half))


def cpm_interval(cpm: float, n: int, mean: float, s: float, target: float, level: float):
    """Boyles (1991): chi-square interval with nu = n (1 + xi^2)^2 / (1 + 2 xi^2), xi = (mean - T)/s."""
    if not np.isfinite(cpm) or not s > 0:
        return (np.nan, np.nan)
    xi = (mean - target) / s
    nu = n * (1 + xi * xi) ** 2 / (1 + 2 * xi * xi)
    a = 1 - level
    return (float(cpm * np.sqrt(stats.chi2.ppf(a / 2, nu) / nu)), float(cpm * np.sqrt(stats.chi2.ppf(1 - a / 2, nu) / nu)))


def _ppm_normal(mean, sigma, lo, hi):
    sigma = np.float64(sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = special.ndtr((lo - mean) / sigma) * 1e6 if lo is not None else 0.0
        above = special.ndtr((mean - hi) / sigma) * 1e6 if hi is not None else 0.0
    below, above = float(np.nan_to_num(below, nan=0.0)), float(np.nan_to_num(above, nan=0.0))
    return (below, above, below + above)


def capability(values, lsl=None, usl=None, target=None, subgroup_size=1, *, strategy=None, sigma_within=None,
               distribution=None, family=None, ci_level=None, constants=None):
    """Process capability (Cp, Cpk, Cpl, Cpu), performance (Pp, Ppk) and Cpm with intervals.

    Parameters
    ----------
    values : array_like, shape (N,) or (m, n)
        Values in time order; 2-D for m subgroups of n (then ``subgroup_size`` is n).
    lsl, usl : float, optional
        Specification limits; at least one. One-sided specifications give Cpl or Cpu only.
    target : float, optional
        Target for Cpm; default the middle of the specification.
    subgroup_size : int
        Consecutive values forming a subgroup (1: individuals, sigma within from moving ranges).
    strategy : str or mapping or EvaluationStrategy, optional
        ``"aiag"``, ``"vda"``, ``"bosch"``, ``"normal"`` (default) or a custom strategy; recorded in
        the result.
    sigma_within, distribution, family, ci_level, constants : optional
        Override single fields of the strategy.

    Returns
    -------
    CapabilityResult

    Notes
    -----
    Sums are taken on deviations from the first value (two-pass), so a 1000 mm nominal with a
    0.1 um spread keeps its digits. With ``distribution="percentile"`` (or a non-normal
    ISO 22514-2 model under ``"auto"``) the indices come from the quantiles of the fitted
    distribution, Cp = (USL - LSL) / (X_99.865 - X_0.135) and Cpk = min((USL - X_50)/(X_99.865 - X_50),
    (X_50 - LSL)/(X_50 - X_0.135)); the percentile method does not separate within and overall
    variation, so Cp* and Pp* then carry the same values. Box-Cox and Johnson compute the normal
    indices on the transformed values and transformed limits.

    References
    ----------
    ISO 22514-2:2017 clauses 6-7; ISO 22514-4:2016; Montgomery (2009) section 8.3; Bissell (1990);
    Boyles (1991); AIAG SPC manual (2005) chapter IV.
    """
    overrides = {"sigma_within": sigma_within, "distribution": distribution, "family": family,
                 "ci_level": ci_level, "constants": constants}
    x, lo, hi, tgt, n_sub, st = _capability_iv(values, lsl, usl, target, subgroup_size, strategy, overrides)
    if tgt is None and lo is not None and hi is not None:
        tgt = 0.5 * (lo + hi)
    n = x.size
    x2 = x.reshape(-1, n_sub) if n_sub > 1 else x.reshape(-1, 1)
    method_sigma = st.sigma_within
    if n_sub == 1:
        method_sigma = "mr"  # individuals: a preset's subgroup estimator falls back to the moving range
    ref = x[0]
    d = x - ref
    mean = float(ref + d.mean())
    s = float(np.sqrt(np.sum((d - d.mean()) ** 2) / (n - 1)))
    sw, sw_method, df = within_sigma(x2, method_sigma, st.constants)
    if not (s > 0 and sw > 0):
        warn("the values have no spread: capability indices are infinite or undefined")
    normality = anderson_darling(x)
    model = None
    method = st.distribution
    if method == "auto":
        model = choose_model(x2 if n_sub > 1 else None, x, st.normality_alpha)
        method = "normal" if model.model in NORMAL_MODELS else "percentile"
    fitted = transform = None
    if method == "normal":
        cp, cpk, cpl, cpu = _indices(mean, sw, lo, hi)
        pp, ppk, ppl, ppu = _indices(mean, s, lo, hi)
        ppm_w, ppm_o = _ppm_normal(mean, sw, lo, hi), _ppm_normal(mean, s, lo, hi)
        q = (mean - 3 * s, mean, mean + 3 * s)
        label = "normal"
    elif method == "percentile":
        if not s > 0:
            fitted = None
        elif st.family == "best":
            fitted = best_fit(x, FAMILY_NAMES)
        else:
            fitted = fit_family(x, st.family)
            if fitted is None:
                raise fail("family", f"{st.family!r} cannot describe these values (e.g. values <= 0)")
        if fitted is None:
            cp = cpk = cpl = cpu = float("nan")
            q = (mean, mean, mean)
            ppm_w = ppm_o = (np.nan, np.nan, np.nan)
            label = "percentile"
        else:
            q = (fitted.q_lo, fitted.q_50, fitted.q_hi)
            cp, cpk, cpl, cpu = _percentile_indices(*q, lo, hi)
            below = float(fitted.cdf(lo)) * 1e6 if lo is not None else 0.0
            above = float(1 - fitted.cdf(hi)) * 1e6 if hi is not None else 0.0
            ppm_w = ppm_o = (below, above, below + above)
            label = f"percentile:{fitted.family}"
        pp, ppk, ppl, ppu = cp, cpk, cpl, cpu
    else:
        transform = box_cox(x) if method == "box-cox" else johnson(x)
        if transform is None:
            raise fail("distribution", f"{method!r} cannot be applied to these values"
                       + (" (Box-Cox needs values > 0)" if method == "box-cox" else " (Johnson fit failed)"))
        y = transform.apply(x)
        ty = lambda v: None if v is None else float(transform.apply(v))  # noqa: E731
        tlo, thi = ty(lo), ty(hi)
        y2 = y.reshape(x2.shape)
        ymean = float(y.mean())
        ys = float(y.std(ddof=1))
        ysw = within_sigma(y2, method_sigma, st.constants)[0]
        cp, cpk, cpl, cpu = _indices(ymean, ysw, tlo, thi)
        pp, ppk, ppl, ppu = _indices(ymean, ys, tlo, thi)
        ppm_w, ppm_o = _ppm_normal(ymean, ysw, tlo, thi), _ppm_normal(ymean, ys, tlo, thi)
        q = tuple(float(v) for v in _inverse_quantiles(transform, ymean, ys, x))
        label = transform.kind
    level = st.ci_level
    with np.errstate(divide="ignore", invalid="ignore"):
        cpm = (hi - lo) / (6 * np.sqrt(s * s + (mean - tgt) ** 2)) if lo is not None and hi is not None else np.nan
    cpm = float(cpm)
    return CapabilityResult(
        n=n, n_subgroups=x2.shape[0], subgroup_size=n_sub, mean=mean, sigma_within=sw, sigma_overall=s,
        sigma_method=sw_method, lsl=lo, usl=hi, target=tgt,
        cp=cp, cpk=cpk, cpl=cpl, cpu=cpu, pp=pp, ppk=ppk, ppl=ppl, ppu=ppu, cpm=cpm,
        cp_ci=cp_interval(cp, df, level), cpk_ci=cpk_interval(cpk, n, level),
        pp_ci=cp_interval(pp, n - 1, level), ppk_ci=cpk_interval(ppk, n, level),
        cpm_ci=cpm_interval(cpm, n, mean, s, tgt, level) if tgt is not None else (np.nan, np.nan),
        ci_df=df, ppm_within=ppm_w, ppm_overall=ppm_o, normality=normality, method=label, model=model,
        fitted=fitted, transform=transform, quantiles=tuple(float(v) for v in q), strategy=st,
    )


def _inverse_quantiles(t: Transform, ymean: float, ys: float, x: np.ndarray):
    """X_0.135%, X_50%, X_99.865% of the original values: invert the transformation numerically."""
    from scipy.optimize import brentq

    targets = ymean + ys * np.array([-3.0, 0.0, 3.0])
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo if hi > lo else 1.0
    out = []
    for tv in targets:
        a, b = lo - span, hi + span
        for _ in range(60):
            fa, fb = float(t.apply(a)) - tv, float(t.apply(b)) - tv
            if np.isfinite(fa) and np.isfinite(fb) and fa * fb <= 0:
                break
            a, b = (a - span if not (np.isfinite(fa) and fa < 0) else a), b + span
            if t.kind == "box-cox":
                a = max(a, 1e-300)
        try:
            out.append(brentq(lambda v, tv=tv: float(t.apply(v)) - tv, a, b))
        except ValueError:
            out.append(np.nan)
    return out
