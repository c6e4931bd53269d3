"""Many balanced crossed Gage R&R studies in one vectorised call.

``grr_anova_batch`` evaluates S studies of the same shape (parts x appraisers x trials) at once:
the sums of squares, the AIAG interaction pooling (per study), the variance components, the %
figures and ndc are array operations over the leading axis, with no Python loop per study. The
studies come either as one array ``(S, parts, appraisers, trials)`` or, in the batch layout of the
measurement lake, as concatenated values with int64 group offsets (each group holds
``parts * appraisers * trials`` values in part-major order).

The results equal those of :func:`jingce.kernels.msa.grr.grr_anova` (ANOVA method) study by study;
confidence intervals are left to the single-study function.

References
----------
.. [1] AIAG MSA 4th ed. (2010), chapter III-B, ANOVA method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from jingce.kernels._validation import (
    as_array,
    as_float,
    as_int,
    as_probability,
    fail,
    group_offsets,
    one_of,
    warn,
)
from jingce.kernels.msa.grr import NDC_FACTOR

__all__ = ["GrrBatchResult", "grr_anova_batch"]


@dataclass(frozen=True, slots=True)
class GrrBatchResult:
    """Per-study arrays of shape (S,) (names as in :class:`~jingce.kernels.msa.grr.GrrResult`)."""

    ev: np.ndarray
    av: np.ndarray
    interaction: np.ndarray
    grr: np.ndarray
    pv: np.ndarray
    tv: np.ndarray
    ndc: np.ndarray
    pct_grr_study: np.ndarray
    pct_grr_tolerance: np.ndarray | None
    pct_contribution_grr: np.ndarray
    interaction_p: np.ndarray
    interaction_pooled: np.ndarray
    ms_part: np.ndarray
    ms_appraiser: np.ndarray
    ms_interaction: np.ndarray
    ms_error: np.ndarray
    n_parts: int
    n_appraisers: int
    n_trials: int
    k: float


def _grr_anova_batch_iv(readings, values, offsets, parts, appraisers, trials, tolerance, k, interaction, pool_alpha):
    if readings is not None:
        if values is not None or offsets is not None:
            raise fail("readings", "give either readings (S x parts x appraisers x trials) or values and offsets")
        y = as_array(readings, "readings", ndim=4)
    else:
        if values is None or offsets is None:
            raise fail("values", "values and offsets are required when readings is not given")
        v = as_array(values, "values", ndim=1)
        off = group_offsets(offsets, v.size)
        p = as_int(parts, "parts", lo=2)
        o = as_int(appraisers, "appraisers", lo=2)
        r = as_int(trials, "trials", lo=2)
        sizes = np.diff(off)
        if np.any(sizes != p * o * r):
            bad = int(np.flatnonzero(sizes != p * o * r)[0])
            raise fail("offsets", f"every group must hold parts*appraisers*trials = {p * o * r} values; "
                       f"group {bad} holds {int(sizes[bad])}")
        y = v.reshape(sizes.size, p, o, r)
    s, p, o, r = y.shape
    if s < 1:
        raise fail("readings", "needs at least one study")
    if p < 2:
        raise fail("parts", f"needs at least 2 parts, got {p}")
    if o < 2:
        raise fail("appraisers", f"needs at least 2 appraisers to estimate reproducibility, got {o}")
    if r < 2:
        raise fail("trials", f"needs at least 2 trials, got {r}")
    tol = as_float(tolerance, "tolerance", positive=True, allow_none=True)
    k = as_float(k, "k", positive=True)
    interaction = one_of(interaction, "interaction", ("auto", "include", "exclude"))
    alpha = as_probability(pool_alpha, "pool_alpha")
    return y, tol, k, interaction, alpha


def grr_anova_batch(
    readings=None,
    *,
    values=None,
    offsets=None,
    parts=None,
    appraisers=None,
    trials=None,
    tolerance=None,
    k: float = 6.0,
    interaction: str = "auto",
    pool_alpha: float = 0.25,
) -> GrrBatchResult:
    """Gage R&R by ANOVA for many balanced crossed studies at once.

    Parameters
    ----------
    readings : array_like, shape (S, parts, appraisers, trials), optional
        The studies.
    values, offsets : array_like, optional
        Alternatively the concatenated readings (each study part-major: part, appraiser, trial) and
        int64 offsets ``[0, ..., len(values)]``; then ``parts``, ``appraisers``, ``trials`` give the shape.
    tolerance : float, optional
        Common tolerance for %GRR of tolerance.
    k, interaction, pool_alpha
        As for :func:`~jingce.kernels.msa.grr.grr_anova`.

    Returns
    -------
    GrrBatchResult

    References
    ----------
    AIAG MSA 4th ed. (2010), chapter III-B.
    """
    y, tol, k, interaction, alpha = _grr_anova_batch_iv(
        readings, values, offsets, parts, appraisers, trials, tolerance, k, interaction, pool_alpha)
    _, p, o, r = y.shape
    dev = y - y.mean(axis=(1, 2, 3), keepdims=True)
    cell = dev.mean(axis=3)
    pm = cell.mean(axis=2)
    om = cell.mean(axis=1)
    gm = pm.mean(axis=1)
    pmc = pm - gm[:, None]
    omc = om - gm[:, None]
    inter = cell - pm[:, :, None] - om[:, None, :] + gm[:, None, None]
    resid = dev - cell[..., None]
    ss_p = o * r * np.einsum("ij,ij->i", pmc, pmc)
    ss_o = p * r * np.einsum("ij,ij->i", omc, omc)
    ss_po = r * np.einsum("ijk,ijk->i", inter, inter)
    ss_e = np.einsum("ijkl,ijkl->i", resid, resid)
    df_p, df_o, df_po, df_e = p - 1.0, o - 1.0, (p - 1.0) * (o - 1.0), p * o * (r - 1.0)
    ms_p, ms_o, ms_po, ms_e = ss_p / df_p, ss_o / df_o, ss_po / df_po, ss_e / df_e
    with np.errstate(divide="ignore", invalid="ignore"):
        f_po = ms_po / ms_e
        # upper tail of F(df_po, df_e) through the regularised incomplete beta function
        p_int = np.where(np.isfinite(f_po), special.betainc(df_e / 2, df_po / 2, df_e / (df_e + df_po * f_po)), 0.0)
    if interaction == "auto":
        pooled = p_int > alpha
    else:
        pooled = np.full(p_int.shape, interaction == "exclude")
    ms_pool = (ss_po + ss_e) / (df_po + df_e)
    var_e = np.where(pooled, ms_pool, ms_e)
    var_po = np.where(pooled, 0.0, np.maximum((ms_po - ms_e) / r, 0.0))
    denom = np.where(pooled, ms_pool, ms_po)
    var_o = np.maximum((ms_o - denom) / (p * r), 0.0)
    var_p = np.maximum((ms_p - denom) / (o * r), 0.0)
    var_grr = var_e + var_o + var_po
    var_tv = var_grr + var_p
    ev, av, ia, grr, pv, tv = (np.sqrt(v) for v in (var_e, var_o, var_po, var_grr, var_p, var_tv))
    zero = grr == 0
    if np.any(zero):
        warn(f"{int(zero.sum())} stud(y/ies) with zero GRR: their ndc is infinite")
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = np.where(zero, np.inf, np.floor(NDC_FACTOR * pv / np.where(zero, 1.0, grr)))
        pct_sv = 100.0 * grr / tv
        pct_c = 100.0 * var_grr / var_tv
    return GrrBatchResult(
        ev=ev, av=av, interaction=ia, grr=grr, pv=pv, tv=tv, ndc=ndc, pct_grr_study=pct_sv,
        pct_grr_tolerance=100.0 * k * grr / tol if tol else None, pct_contribution_grr=pct_c,
        interaction_p=p_int, interaction_pooled=pooled, ms_part=ms_p, ms_appraiser=ms_o, ms_interaction=ms_po,
        ms_error=ms_e, n_parts=p, n_appraisers=o, n_trials=r, k=k,
    )
