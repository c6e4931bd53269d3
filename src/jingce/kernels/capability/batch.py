"""Capability indices for many characteristics at once, from per-characteristic summaries.

Pure array formulas (no loop per characteristic); called by :func:`jingce.kernels.spc.batch_summary`
after it has reduced the sorted values. Normal-theory indices only: the non-normal methods need a
fit per characteristic and are left to :func:`~jingce.kernels.capability.capability`.

References
----------
.. [1] ISO 22514-4:2016; Montgomery (2009) section 8.3; Bissell (1990).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["BatchCapability", "batch_capability"]


@dataclass(frozen=True, slots=True)
class BatchCapability:
    """Capability per characteristic (arrays of shape (g,); NaN where undefined).

    Attributes
    ----------
    cp, cpk, cpl, cpu, pp, ppk, ppl, ppu, cpm : ndarray
    cp_lo, cp_hi, cpk_lo, cpk_hi, pp_lo, pp_hi, ppk_lo, ppk_hi : ndarray
        Confidence bounds (chi-square for Cp/Pp, Bissell for Cpk/Ppk).
    ppm_within, ppm_overall : ndarray
        Expected nonconforming parts per million (normal model), both tails.
    ci_level : float
    """

    cp: np.ndarray
    cpk: np.ndarray
    cpl: np.ndarray
    cpu: np.ndarray
    pp: np.ndarray
    ppk: np.ndarray
    ppl: np.ndarray
    ppu: np.ndarray
    cpm: np.ndarray
    cp_lo: np.ndarray
    cp_hi: np.ndarray
    cpk_lo: np.ndarray
    cpk_hi: np.ndarray
    pp_lo: np.ndarray
    pp_hi: np.ndarray
    ppk_lo: np.ndarray
    ppk_hi: np.ndarray
    ppm_within: np.ndarray
    ppm_overall: np.ndarray
    ci_level: float


def _chi2_ppf(q, df):
    """Chi-square quantile, ``2 P^-1(df / 2, q)`` with P the regularised lower incomplete gamma
    function: the formula scipy.stats.chi2.ppf evaluates, without importing scipy.stats (NaN
    degrees of freedom give NaN). Evaluated once per distinct ``df`` (many characteristics share
    their counts, and the inverse is the costly part)."""
    df = np.asarray(df, dtype=float)
    uniq, inv = np.unique(df, return_inverse=True)
    return (2 * special.gammaincinv(uniq / 2, q))[inv.reshape(df.shape)]


def _idx(mean, sigma, lsl, usl):
    cpu = (usl - mean) / (3 * sigma)
    cpl = (mean - lsl) / (3 * sigma)
    cp = (usl - lsl) / (6 * sigma)
    cpk = np.fmin(cpl, cpu)  # fmin: a missing limit (NaN) leaves the other side
    return cp, cpk, cpl, cpu


def _ppm(mean, sigma, lsl, usl):
    below = np.nan_to_num(special.ndtr((lsl - mean) / sigma), nan=0.0)
    above = np.nan_to_num(special.ndtr((mean - usl) / sigma), nan=0.0)
    out = (below + above) * 1e6
    return np.where(np.isnan(lsl) & np.isnan(usl), np.nan, out)


def batch_capability(mean, sigma_within, sigma_overall, n, df_within, lsl, usl, target=None, ci_level=0.95):
    """Normal-theory capability of g characteristics from their summaries.

    Parameters
    ----------
    mean, sigma_within, sigma_overall : ndarray of float, shape (g,)
    n : ndarray of int, shape (g,)
        Number of values (for Pp and the Bissell intervals).
    df_within : ndarray, shape (g,)
        Degrees of freedom of ``sigma_within`` (m(n-1) for subgroups, n-1 for moving ranges).
    lsl, usl : ndarray of float, shape (g,)
        NaN where a characteristic has no such limit.
    target : ndarray, optional
        Target for Cpm (default the middle of the specification).
    ci_level : float

    Returns
    -------
    BatchCapability

    References
    ----------
    ISO 22514-4:2016; Montgomery (2009) eqs. (8.19)-(8.20); Bissell (1990).
    """
    mean, sw, so = (np.asarray(a, float) for a in (mean, sigma_within, sigma_overall))
    lsl, usl = np.asarray(lsl, float), np.asarray(usl, float)
    n = np.asarray(n, float)
    dfw = np.asarray(df_within, float)
    tgt = 0.5 * (lsl + usl) if target is None else np.where(np.isnan(target), 0.5 * (lsl + usl), target)
    with np.errstate(divide="ignore", invalid="ignore"):
        cp, cpk, cpl, cpu = _idx(mean, sw, lsl, usl)
        pp, ppk, ppl, ppu = _idx(mean, so, lsl, usl)
        cpm = (usl - lsl) / (6 * np.sqrt(so * so + (mean - tgt) ** 2))
        a = 1 - ci_level
        dfw_ok = np.where(dfw >= 1, dfw, np.nan)
        dfo = np.where(n >= 2, n - 1, np.nan)
        cp_lo = cp * np.sqrt(_chi2_ppf(a / 2, dfw_ok) / dfw_ok)
        cp_hi = cp * np.sqrt(_chi2_ppf(1 - a / 2, dfw_ok) / dfw_ok)
        pp_lo = pp * np.sqrt(_chi2_ppf(a / 2, dfo) / dfo)
        pp_hi = pp * np.sqrt(_chi2_ppf(1 - a / 2, dfo) / dfo)
        z = special.ndtri(1 - a / 2)  # standard normal quantile
        hk = z * np.sqrt(1 / (9 * n) + cpk * cpk / (2 * dfo))
        hpk = z * np.sqrt(1 / (9 * n) + ppk * ppk / (2 * dfo))
        ppm_w = _ppm(mean, sw, lsl, usl)
        ppm_o = _ppm(mean, so, lsl, usl)
        cpk_lo, cpk_hi, ppk_lo, ppk_hi = cpk - hk, cpk + hk, ppk - hpk, ppk + hpk  # inf - inf: NaN
    return BatchCapability(
        cp=cp, cpk=cpk, cpl=cpl, cpu=cpu, pp=pp, ppk=ppk, ppl=ppl, ppu=ppu, cpm=cpm,
        cp_lo=cp_lo, cp_hi=cp_hi, cpk_lo=cpk_lo, cpk_hi=cpk_hi, pp_lo=pp_lo, pp_hi=pp_hi,
        ppk_lo=ppk_lo, ppk_hi=ppk_hi, ppm_within=ppm_w, ppm_overall=ppm_o, ci_level=float(ci_level),
    )
