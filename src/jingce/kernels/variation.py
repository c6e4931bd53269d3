"""Stream of variation: how much of a product characteristic's variation its upstream sources explain.

Three pieces, each usable alone:

* :func:`ols` - ordinary least squares of ``y`` on predictors ``x`` (with intercept), by a
  Householder QR of the column-centred design (the intercept is orthogonal to centred columns,
  so it never enters the factorisation); standard errors, t and p values, R² and adjusted R².
* :func:`lmg` - the LMG decomposition of R² (Lindeman, Merenda and Gold 1980): each predictor's
  share is its increase in R² averaged over all orderings of the predictors, which is the Shapley
  value of the "R² game" (Grömping 2006, 2007). The shares are non-negative, sum to the full
  model's R², and do not depend on the order or the scale of the predictors. Exact, over all
  ``2**p`` subsets (R² of a subset from the correlation matrix), for ``p <=`` :data:`MAX_LMG_PREDICTORS`.
* :func:`one_way_anova` - one-way analysis of variance of ``y`` by a categorical source
  (machines, cavities, operators): between/within sums of squares (two-pass, about group means),
  F, p and eta² = SS_between / SS_total, the share of the variation the source explains.

:func:`attribute` runs :func:`ols` and :func:`lmg` together: the ranking of upstream
characteristics by their contribution to a product characteristic's variation.

References
----------
.. [1] R. H. Lindeman, P. F. Merenda, R. Z. Gold, Introduction to Bivariate and Multivariate
       Analysis, Scott Foresman, Glenview IL, 1980, pp. 119 ff. (the LMG measure).
.. [2] U. Grömping, "Relative importance for linear regression in R: the package relaimpo",
       Journal of Statistical Software 17(1), 2006, section 2.3 (lmg), 2.1 (R² decomposition).
.. [3] U. Grömping, "Estimators of relative importance in linear regression based on variance
       decomposition", The American Statistician 61(2), 2007, 139-147 (LMG as Shapley value).
.. [4] NIST/ITL Statistical Reference Datasets, linear least squares regression (Norris, Longley)
       and analysis of variance (SiRstv), https://www.itl.nist.gov/div898/strd/ .
.. [5] D. C. Montgomery, E. A. Peck, G. G. Vining, Introduction to Linear Regression Analysis,
       5th ed., Wiley 2012, 3.2-3.3 (least squares, tests on coefficients).
.. [6] J. Shi, Stream of Variation Modeling and Analysis for Multistage Manufacturing Processes,
       CRC Press 2006, ch. 1 (variation propagating from components to assemblies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from jingce.kernels._validation import as_array, fail, warn

__all__ = ["MAX_LMG_PREDICTORS", "AnovaResult", "Attribution", "LmgResult", "OlsResult", "attribute", "lmg", "ols",
           "one_way_anova"]

MAX_LMG_PREDICTORS = 14
"""Exact LMG visits all ``2**p`` subsets: 16,384 small solves at this limit (well under a second)."""


@dataclass(frozen=True, slots=True)
class OlsResult:
    """A least-squares fit ``y = b0 + b1 x1 + ... + bp xp + e``.

    Attributes
    ----------
    coefficients : ndarray, shape (p + 1,)
        ``b0`` (intercept) first, then one per predictor.
    standard_errors, t_values, p_values : ndarray, shape (p + 1,)
        Standard error of each coefficient, ``b / se`` and the two-sided p value (t distribution,
        ``df_residual`` degrees of freedom).
    residual_sd : float
        ``s = sqrt(SS_res / (n - p - 1))``.
    r_squared, adjusted_r_squared : float
        ``1 - SS_res / SS_tot`` and ``1 - (1 - R²)(n - 1)/(n - p - 1)``.
    f_statistic, f_p_value : float
        Overall F test of the regression.
    n, df_residual : int
    rank : int
        Numerical rank of the centred design; below ``p`` the fit is not unique (collinear
        predictors): coefficients of the dependent columns are NaN.
    """

    coefficients: np.ndarray
    standard_errors: np.ndarray
    t_values: np.ndarray
    p_values: np.ndarray
    residual_sd: float
    r_squared: float
    adjusted_r_squared: float
    f_statistic: float
    f_p_value: float
    n: int
    df_residual: int
    rank: int


@dataclass(frozen=True, slots=True)
class LmgResult:
    """LMG shares of R².

    Attributes
    ----------
    shares : ndarray, shape (p,)
        Each predictor's share of R² (non-negative; they sum to ``r_squared``).
    relative : ndarray, shape (p,)
        ``shares / r_squared`` (sum 1; NaN when R² is 0).
    r_squared : float
        R² of the full model.
    first, last : ndarray, shape (p,)
        R² of each predictor alone, and its increase in R² when added last: the bounds
        between which LMG averages.
    """

    shares: np.ndarray
    relative: np.ndarray
    r_squared: float
    first: np.ndarray
    last: np.ndarray


@dataclass(frozen=True, slots=True)
class AnovaResult:
    """One-way analysis of variance.

    Attributes
    ----------
    levels : ndarray
        The distinct group labels, sorted.
    counts, means : ndarray, shape (k,)
        Number of values and mean per level.
    ss_between, ss_within, ss_total : float
    df_between, df_within : int
    ms_between, ms_within, f_statistic, p_value : float
    eta_squared : float
        ``ss_between / ss_total``: the share of the variation explained by the factor.
    residual_sd : float
        ``sqrt(ms_within)``.
    """

    levels: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    ss_between: float
    ss_within: float
    ss_total: float
    df_between: int
    df_within: int
    ms_between: float
    ms_within: float
    f_statistic: float
    p_value: float
    eta_squared: float
    residual_sd: float


@dataclass(frozen=True, slots=True)
class Attribution:
    """OLS fit and LMG decomposition of one response on its upstream predictors.

    ``order`` ranks the predictors by their LMG share, largest first.
    """

    fit: OlsResult
    importance: LmgResult
    order: np.ndarray


# -- validation ------------------------------------------------------------------------------------


def _xy_iv(y, x, *, min_extra: int = 1) -> tuple[np.ndarray, np.ndarray]:
    y = as_array(y, "y", ndim=1)
    x = as_array(x, "x", ndim=(1, 2))
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != y.size:
        raise fail("x", f"must have one row per value of y ({y.size}), got {x.shape[0]}")
    if x.shape[1] < 1:
        raise fail("x", "must hold at least one predictor column")
    if y.size < x.shape[1] + 1 + min_extra:
        raise fail("y", f"must hold at least {x.shape[1] + 1 + min_extra} values for {x.shape[1]} predictor(s) "
                        f"(more values than coefficients), got {y.size}")
    return y, x


def _ols_iv(y, x):
    return _xy_iv(y, x)


def _lmg_iv(y, x):
    y, x = _xy_iv(y, x)
    if x.shape[1] > MAX_LMG_PREDICTORS:
        raise fail("x", f"must have at most {MAX_LMG_PREDICTORS} predictor columns for the exact LMG "
                        f"decomposition, got {x.shape[1]}")
    return y, x


def _anova_iv(y, groups):
    y = as_array(y, "y", ndim=1)
    g = np.asarray(groups)
    if g.ndim != 1 or g.size != y.size:
        raise fail("groups", f"must be one label per value of y ({y.size}), got shape {g.shape}")
    if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
        raise fail("groups", "must not contain NaN labels")
    if g.dtype.kind == "O" and any(v is None for v in g):
        raise fail("groups", "must not contain missing (None) labels")
    levels, inverse = np.unique(g, return_inverse=True)
    if levels.size < 2:
        raise fail("groups", f"must have at least 2 distinct levels, got {levels.size}")
    if y.size <= levels.size:
        raise fail("y", f"must hold more values ({y.size}) than groups ({levels.size})")
    return y, levels, inverse.reshape(-1)


# -- OLS ---------------------------------------------------------------------------------------------


def ols(y, x) -> OlsResult:
    """Ordinary least squares of ``y`` on the columns of ``x``, with an intercept.

    Parameters
    ----------
    y : array_like, shape (n,)
    x : array_like, shape (n, p) or (n,)

    Returns
    -------
    OlsResult

    Notes
    -----
    The columns and ``y`` are centred (two-pass means) and the columns scaled to unit norm before
    a QR factorisation ``Xc = QR``; ``b = R⁻¹ Qᵀ yc``, ``Cov(b) = s² (RᵀR)⁻¹``, and the intercept
    ``b0 = ȳ - x̄ᵀb`` with ``Var(b0) = s²/n + x̄ᵀ Cov(b) x̄``. This reproduces NIST's certified
    Longley values to about 8 significant digits, where the normal equations lose most of them.

    References
    ----------
    .. [1] Montgomery, Peck and Vining (2012), 3.2-3.3; NIST StRD linear regression.
    """
    y, x = _ols_iv(y, x)
    n, p = x.shape
    xbar = x.mean(axis=0)
    xbar = xbar + (x - xbar).mean(axis=0)  # second pass: the centred columns sum to zero
    ybar = y.mean()
    ybar = ybar + (y - ybar).mean()
    xc = x - xbar
    yc = y - ybar
    norms = np.sqrt(np.einsum("ij,ij->j", xc, xc))
    ss_tot = float(yc @ yc)
    zero = norms == 0
    if zero.any():
        warn(f"predictor column(s) {np.flatnonzero(zero).tolist()} are constant: their coefficients are undefined")
    scale = np.where(zero, 1.0, norms)
    q, r, piv = linalg.qr(xc / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = max(n, p) * np.finfo(float).eps * (diag[0] if diag.size else 0.0)
    rank = int(np.sum(diag > tol))
    b = np.full(p, np.nan)
    cov = np.full((p, p), np.nan)
    qty = q[:, :rank].T @ yc
    if rank:
        r1 = r[:rank, :rank]
        # R⁻¹ of the small triangular factor (numpy: scipy's solve_triangular costs milliseconds
        # per call for a 2 x 2 system, which the root-cause screening calls hundreds of times)
        rinv = np.linalg.inv(r1)
        bz = rinv @ qty
        b[piv[:rank]] = bz / scale[piv[:rank]]
        cz = rinv @ rinv.T
        idx = piv[:rank]
        cov[np.ix_(idx, idx)] = cz / np.outer(scale[idx], scale[idx])
    fitted = xc[:, piv[:rank]] @ b[piv[:rank]] if rank else np.zeros(n)
    resid = yc - fitted
    ss_res = float(resid @ resid)
    df_res = n - rank - 1
    if rank < p:
        warn(f"the predictors are collinear (rank {rank} of {p}): coefficients of dependent columns are NaN")
    s2 = ss_res / df_res
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.diag(cov) * s2)
        b0 = ybar - float(np.nansum(xbar * np.where(np.isnan(b), 0.0, b)))
        xb = np.where(np.isnan(b), 0.0, xbar)
        cov0 = np.where(np.isnan(cov), 0.0, cov)
        se0 = math.sqrt(s2 / n + float(xb @ cov0 @ xb) * s2)
        coef = np.concatenate(([b0], b))
        ses = np.concatenate(([se0], se))
        tv = coef / ses
        pv = 2 * stats.t.sf(np.abs(tv), df_res)
        if ss_tot > 0:
            r2 = 1.0 - ss_res / ss_tot
        else:
            warn("y has zero spread: R² is undefined")
            r2 = float("nan")
        adj = 1.0 - (1.0 - r2) * (n - 1) / df_res
        f = ((ss_tot - ss_res) / rank) / s2 if rank and s2 > 0 else float("nan")
        fp = float(stats.f.sf(f, rank, df_res)) if np.isfinite(f) else float("nan")
    return OlsResult(coef, ses, tv, pv, math.sqrt(s2), float(r2), float(adj), float(f), fp, n, df_res, rank)


# -- LMG ---------------------------------------------------------------------------------------------


def _subset_r2(corr: np.ndarray, p: int) -> np.ndarray:
    """R² of every subset of the ``p`` predictors (index = bit mask), from the correlation matrix
    ``corr`` of (x1..xp, y) (last row/column y): ``R²(S) = r_yS' C_SS⁺ r_yS``."""
    r2 = np.zeros(1 << p)
    cxx, rxy = corr[:p, :p], corr[:p, p]
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        c = cxx[np.ix_(idx, idx)]
        r = rxy[idx]
        sol = np.linalg.lstsq(c, r, rcond=None)[0]
        r2[mask] = float(r @ sol)
    return np.clip(r2, 0.0, 1.0)


def lmg(y, x) -> LmgResult:
    """The LMG decomposition of R² of ``y`` regressed on the columns of ``x``.

    Share of predictor ``j``::

        LMG_j = Σ_{S ⊆ P∖{j}} |S|! (p - |S| - 1)! / p! · [R²(S ∪ {j}) - R²(S)]

    the increase in R² from adding ``j``, averaged over all ``p!`` orderings of the predictors.

    Parameters
    ----------
    y : array_like, shape (n,)
    x : array_like, shape (n, p), ``p <=`` :data:`MAX_LMG_PREDICTORS`

    Returns
    -------
    LmgResult

    References
    ----------
    .. [1] Lindeman, Merenda and Gold (1980); Grömping (2006) 2.3, eq. (5); Grömping (2007).
    """
    y, x = _lmg_iv(y, x)
    return _lmg(y, x)


def _lmg(y: np.ndarray, x: np.ndarray) -> LmgResult:
    n, p = x.shape
    z = np.column_stack((x, y))
    z = z - z.mean(axis=0)
    z = z - z.mean(axis=0)
    norms = np.sqrt(np.einsum("ij,ij->j", z, z))
    if norms[-1] == 0:
        warn("y has zero spread: the R² decomposition is undefined")
        nan = np.full(p, np.nan)
        return LmgResult(nan, nan, float("nan"), nan, nan)
    zero = norms[:p] == 0
    if zero.any():
        warn(f"predictor column(s) {np.flatnonzero(zero).tolist()} are constant: they explain nothing")
    z = z / np.where(norms == 0, 1.0, norms)
    corr = z.T @ z
    r2 = _subset_r2(corr, p)
    masks = np.arange(1 << p)
    size = np.array([bin(m).count("1") for m in masks])
    fact = np.array([math.factorial(k) for k in range(p + 1)], float)
    shares = np.zeros(p)
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        k = size[without]
        w = fact[k] * fact[p - k - 1] / fact[p]
        shares[j] = float(np.sum(w * (r2[without | (1 << j)] - r2[without])))
    shares = np.maximum(shares, 0.0)  # R² is monotone in the subset: negatives are rounding only
    full = float(r2[-1])
    first = r2[1 << np.arange(p)]
    last = full - r2[(1 << p) - 1 - (1 << np.arange(p))]
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = shares / full if full > 0 else np.full(p, np.nan)
    return LmgResult(shares, relative, full, first, np.maximum(last, 0.0))


# -- one-way ANOVA -----------------------------------------------------------------------------------


def one_way_anova(y, groups) -> AnovaResult:
    """One-way ANOVA of ``y`` by the labels ``groups`` (any comparable labels, e.g. machine codes).

    Parameters
    ----------
    y : array_like, shape (n,)
    groups : array_like, shape (n,)
        At least two distinct labels, and more values than labels.

    Returns
    -------
    AnovaResult

    Notes
    -----
    Sums of squares are taken about the group means and the grand mean computed first (two
    passes), so data with many constant leading digits (NIST SiRstv) keep their precision.

    References
    ----------
    .. [1] Montgomery, Design and Analysis of Experiments, 8th ed., Wiley 2013, 3.3; NIST StRD ANOVA.
    """
    y, levels, inv = _anova_iv(y, groups)
    k = levels.size
    n = y.size
    counts = np.bincount(inv, minlength=k)
    means = np.bincount(inv, weights=y, minlength=k) / counts
    means = means + np.bincount(inv, weights=y - means[inv], minlength=k) / counts
    grand = y.mean()
    grand = grand + (y - grand).mean()
    dev = y - means[inv]
    ss_w = float(dev @ dev)
    ss_b = float(counts @ (means - grand) ** 2)
    tot = y - grand
    ss_t = float(tot @ tot)
    df_b, df_w = k - 1, n - k
    ms_b, ms_w = ss_b / df_b, ss_w / df_w
    if ss_t == 0:
        warn("y has zero spread: eta² and F are undefined")
    with np.errstate(invalid="ignore", divide="ignore"):
        f = ms_b / ms_w if ms_w > 0 else (float("inf") if ms_b > 0 else float("nan"))
        p = float(stats.f.sf(f, df_b, df_w)) if np.isfinite(f) else (0.0 if f == np.inf else float("nan"))
        eta = ss_b / ss_t if ss_t > 0 else float("nan")
    return AnovaResult(levels, counts, means, ss_b, ss_w, ss_t, df_b, df_w, ms_b, ms_w, float(f), p, float(eta),
                       math.sqrt(ms_w))


# -- together ----------------------------------------------------------------------------------------


def attribute(y, x) -> Attribution:
    """Regress ``y`` on its upstream predictors ``x`` and decompose R² by LMG.

    Parameters
    ----------
    y : array_like, shape (n,)
        The product characteristic, one value per serial.
    x : array_like, shape (n, p)
        The matched upstream measurements of the same serials (one column per upstream
        characteristic), ``p <=`` :data:`MAX_LMG_PREDICTORS`.

    Returns
    -------
    Attribution
        The fit, the LMG shares and the predictors ranked by share (largest first).

    References
    ----------
    .. [1] Grömping (2006); Shi (2006), ch. 1.
    """
    y, x = _lmg_iv(y, x)
    fit = ols(y, x)
    imp = _lmg(y, x)
    order = np.argsort(-np.nan_to_num(imp.shares, nan=-1.0), kind="stable")
    return Attribution(fit, imp, order)
