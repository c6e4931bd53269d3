"""Time-dependent distribution models of ISO 22514-2, chosen from the data.

The choice follows the decision tree Q-DAS applies (as documented for its "ISO 22514-2" evaluation
strategies): is the location stable between subgroups (one-way analysis of variance), is the
dispersion stable (Bartlett's test), does the location drift (regression of the subgroup means on
time), is the instantaneous (within-subgroup) distribution normal, is the resulting distribution
of all values normal (Anderson-Darling)?

========  ===========  ===========  ==========================================
model     location     dispersion   distribution
========  ===========  ===========  ==========================================
A1        constant     constant     normal
A2        constant     constant     one-sided / unimodal, not normal
B         constant     varies       resulting distribution unimodal
C1        varies       constant     random location, resulting normal
C2        varies       constant     random location, resulting not normal
C3        varies       constant     systematic change (trend)
C4        varies       constant     random and systematic change
D         varies       varies       any
========  ===========  ===========  ==========================================

References
----------
.. [1] ISO 22514-2:2017, clause 5 and Table 1 (time-dependent distribution models), clause 6-7.
.. [2] ISO 21747:2006 (withdrawn, replaced by ISO 22514-2), Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels.capability.normality import anderson_darling

__all__ = ["DistributionModel", "choose_model"]

NORMAL_MODELS = ("A1", "C1")


@dataclass(frozen=True, slots=True)
class DistributionModel:
    """The ISO 22514-2 model chosen and the evidence behind it (p-values; NaN where not tested).

    Attributes
    ----------
    model : str
        ``"A1"``, ``"A2"``, ``"B"``, ``"C1"`` .. ``"C4"`` or ``"D"``.
    p_location : float
        One-way ANOVA of the subgroups (small: location varies).
    p_dispersion : float
        Bartlett's test of the subgroup variances (small: dispersion varies).
    p_trend : float
        Regression of the subgroup means on their order (small: systematic change).
    p_within_normal, p_total_normal : float
        Anderson-Darling p-values of the within-subgroup residuals and of all values.
    alpha : float
    """

    model: str
    p_location: float
    p_dispersion: float
    p_trend: float
    p_within_normal: float
    p_total_normal: float
    alpha: float


def choose_model(x2: np.ndarray | None, values: np.ndarray, alpha: float) -> DistributionModel:
    """Choose the model from subgroups ``x2`` (m x n, n >= 2) or, for individuals, from ``values``."""
    p_total = anderson_darling(values).p_value
    if x2 is None or x2.shape[0] < 3 or x2.shape[1] < 2:
        model = "A1" if not p_total < alpha else "A2"
        return DistributionModel(model, np.nan, np.nan, np.nan, np.nan, p_total, alpha)
    m, n = x2.shape
    means = x2.mean(axis=1)
    resid = x2 - means[:, None]
    ss_within = float(np.sum(resid**2))
    ss_between = float(n * np.sum((means - means.mean()) ** 2))
    df_b, df_w = m - 1, m * (n - 1)
    if ss_within > 0:
        f = (ss_between / df_b) / (ss_within / df_w)
        p_loc = float(stats.f.sf(f, df_b, df_w))
    else:
        p_loc = 0.0 if ss_between > 0 else 1.0
    var = x2.var(axis=1, ddof=1)
    if np.all(var > 0):
        p_disp = float(stats.bartlett(*x2).pvalue)
    else:
        p_disp = np.nan
    t = np.arange(m, dtype=float)
    lr = stats.linregress(t, means)
    p_trend = float(lr.pvalue) if np.isfinite(lr.pvalue) else 1.0
    p_within = anderson_darling(resid.ravel() * np.sqrt(n / (n - 1))).p_value
    loc_varies = p_loc < alpha
    disp_varies = p_disp < alpha if np.isfinite(p_disp) else False
    if not loc_varies and not disp_varies:
        model = "A1" if not (p_within < alpha or p_total < alpha) else "A2"
    elif not loc_varies:
        model = "B"
    elif disp_varies:
        model = "D"
    else:
        trend = p_trend < alpha
        if trend:
            # is there random variation of the location beyond the trend?
            fitted = lr.intercept + lr.slope * t
            ss_resid_means = float(n * np.sum((means - fitted) ** 2))
            df_r = m - 2
            p_rest = float(stats.f.sf((ss_resid_means / df_r) / (ss_within / df_w), df_r, df_w)) if df_r > 0 and ss_within > 0 else 1.0
            model = "C4" if p_rest < alpha else "C3"
        else:
            model = "C1" if not p_total < alpha else "C2"
    return DistributionModel(model, p_loc, p_disp, p_trend, p_within, p_total, alpha)
