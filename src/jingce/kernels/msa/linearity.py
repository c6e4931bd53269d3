"""Bias and linearity across the operating range (AIAG MSA) and the linearity ANOVA of ISO 22514-7.

``bias_linearity`` regresses the bias (reading - reference) on the reference value: slope, intercept,
their t tests, the confidence band of the fitted line, the bias of each reference part with its
t test, and the AIAG acceptance rule (the line bias = 0 lies inside the band over the whole range).
It also reports the lack-of-fit analysis of variance of ISO 22514-7 annex A.1 / ISO 11095
(``u_lin``, ``u_evr``) that the measurement-process capability uses.

References
----------
.. [1] AIAG MSA 4th ed. (2010), chapter III-B, "Guidelines for determining linearity",
       Tables III-B 4 and III-B 5, Figure III-B 13.
.. [2] ISO 22514-7:2012, 7.1.3 and annex A.1 (linearity by analysis of variance after ISO 11095).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_float, as_probability, fail, warn

__all__ = ["LinearityResult", "bias_linearity"]


@dataclass(frozen=True, slots=True)
class LinearityResult:
    """Result of a bias and linearity study.

    ``band_x``, ``band_low``, ``band_high`` hold the confidence band of the fitted bias line over the
    range of reference values; ``linearity_acceptable`` is the AIAG rule (zero inside the band
    everywhere). ``u_lin`` and ``u_evr`` are the ISO 22514-7 uncertainty components.
    """

    n: int
    reference_values: np.ndarray  # distinct reference values
    bias_means: np.ndarray  # average bias per reference value
    bias_t: np.ndarray
    bias_p: np.ndarray
    counts: np.ndarray
    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    slope_t: float
    intercept_t: float
    slope_p: float
    intercept_p: float
    s: float  # residual standard deviation of the regression
    r_squared: float
    band_x: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    linearity: float | None  # |slope| * process_variation
    pct_linearity: float | None
    bias_average: float
    pct_bias: float | None
    linearity_acceptable: bool
    ss_lack_of_fit: float
    ss_pure_error: float
    df_lack_of_fit: int
    df_pure_error: int
    lack_of_fit_f: float
    lack_of_fit_p: float
    u_lin: float
    u_evr: float
    confidence: float
    references: np.ndarray  # reference of every reading
    bias: np.ndarray  # bias of every reading


def _bias_linearity_iv(reference, readings, process_variation, confidence):
    conf = as_probability(confidence, "confidence")
    pv = as_float(process_variation, "process_variation", positive=True, allow_none=True)
    ref = as_array(reference, "reference", ndim=1, min_size=2)
    y = as_array(readings, "readings", ndim=(1, 2), finite=False)
    if y.ndim == 2:
        if y.shape[0] != ref.size:
            raise fail("readings", f"must have one row per reference value ({ref.size}), got {y.shape[0]}")
        ref = np.repeat(ref, y.shape[1])
        y = y.ravel()
        keep = ~np.isnan(y)
        ref, y = ref[keep], y[keep]
    elif y.shape != ref.shape:
        raise fail("readings", f"must have one value per reference entry ({ref.size}) or be 2-D, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise fail("readings", "must be finite (NaN only marks missing cells of a 2-D table)")
    if np.unique(ref).size < 2:
        raise fail("reference", "needs at least 2 distinct reference values to fit a line")
    if y.size < 3:
        raise fail("readings", f"need at least 3 readings, got {y.size}")
    return ref, y, pv, conf


def bias_linearity(reference, readings, *, process_variation=None, confidence: float = 0.95) -> LinearityResult:
    """Bias and linearity study.

    Parameters
    ----------
    reference : array_like
        Reference values: one per row of a 2-D ``readings`` (parts x repeats), or one per reading.
    readings : array_like
        The readings (2-D with NaN for missing, or 1-D matching ``reference``).
    process_variation : float, optional
        Process variation (6 sigma) or tolerance for %linearity and %bias.
    confidence : float
        Level of the confidence band and the tests.

    Returns
    -------
    LinearityResult

    References
    ----------
    AIAG MSA 4th ed., Tables III-B 4 and III-B 5; ISO 22514-7:2012, annex A.1.
    """
    ref, y, pv, conf = _bias_linearity_iv(reference, readings, process_variation, confidence)
    bias = y - ref
    n = y.size
    xm = ref.mean()
    dx = ref - xm
    sxx = float(np.sum(dx * dx))
    bm = bias.mean()
    slope = float(np.sum(dx * (bias - bm)) / sxx)
    intercept = float(bm - slope * xm)
    resid = bias - (intercept + slope * ref)
    sse = float(np.sum(resid * resid))
    s = float(np.sqrt(sse / (n - 2))) if n > 2 else float("nan")
    se_slope = s / np.sqrt(sxx)
    se_int = s * np.sqrt(1.0 / n + xm * xm / sxx)
    syy = float(np.sum((bias - bm) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - sse / syy if syy > 0 else float("nan")
        t_slope = slope / se_slope
        t_int = intercept / se_int
    if s == 0:
        warn("the bias lies exactly on a line: tests and band are degenerate")
    p_slope = float(2 * stats.t.sf(abs(t_slope), n - 2))
    p_int = float(2 * stats.t.sf(abs(t_int), n - 2))
    tq = float(stats.t.isf((1 - conf) / 2, n - 2))
    band_x = np.linspace(ref.min(), ref.max(), 101)
    half = tq * s * np.sqrt(1.0 / n + (band_x - xm) ** 2 / sxx)
    fit = intercept + slope * band_x
    low, high = fit - half, fit + half
    acceptable = bool(np.all((low <= 0) & (high >= 0)))
    levels, inverse, counts = np.unique(ref, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=bias)
    means = sums / counts
    dev = bias - means[inverse]
    ss_within = np.bincount(inverse, weights=dev * dev)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd_i = np.sqrt(ss_within / (counts - 1))
        t_i = means / (sd_i / np.sqrt(counts))
    p_i = 2 * stats.t.sf(np.abs(t_i), counts - 1)
    ss_pe = float(ss_within.sum())
    df_pe = int(n - levels.size)
    ss_lof = max(sse - ss_pe, 0.0)
    df_lof = int(levels.size - 2)
    ms_pe = np.float64(ss_pe / df_pe if df_pe > 0 else np.nan)  # numpy scalars: x / 0 gives inf or NaN
    ms_lof = np.float64(ss_lof / df_lof if df_lof > 0 else np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_lof = ms_lof / ms_pe
    p_lof = float(stats.f.sf(f_lof, df_lof, df_pe)) if (df_lof > 0 and df_pe > 0 and np.isfinite(f_lof)) else float("nan")
    lin = abs(slope) * pv if pv else None
    bias_avg = float(bm)
    return LinearityResult(
        n=n, reference_values=levels, bias_means=means, bias_t=t_i, bias_p=p_i, counts=counts,
        slope=slope, intercept=intercept, slope_se=float(se_slope), intercept_se=float(se_int),
        slope_t=float(t_slope), intercept_t=float(t_int), slope_p=p_slope, intercept_p=p_int, s=s,
        r_squared=float(r2), band_x=band_x, band_low=low, band_high=high, linearity=lin,
        pct_linearity=100.0 * abs(slope) if pv else None, bias_average=bias_avg,
        pct_bias=100.0 * abs(bias_avg) / pv if pv else None, linearity_acceptable=acceptable,
        ss_lack_of_fit=ss_lof, ss_pure_error=ss_pe, df_lack_of_fit=df_lof, df_pure_error=df_pe,
        lack_of_fit_f=float(f_lof), lack_of_fit_p=p_lof, u_lin=float(np.sqrt(ms_lof)) if df_lof > 0 else float("nan"),
        u_evr=float(np.sqrt(ms_pe)), confidence=conf, references=ref, bias=bias,
    )
