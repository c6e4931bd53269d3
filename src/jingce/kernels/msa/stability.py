"""Stability of a measurement system: a control chart of repeated readings of a master over time.

The chart itself is the SPC kernel's (:func:`jingce.kernels.spc.xbar_r`, ``xbar_s`` or ``imr``) with
its run rules; this module adds what the MSA manual reads from it: whether the system is stable
(no point beyond the limits, no run-rule signal) and, when the master's reference value is given,
the bias with the control-chart method of AIAG (repeatability ``sigma_r = R-bar / d2*`` with
Patnaik's degrees of freedom, ``t = bias / (sigma_r / sqrt(g m))``).

References
----------
.. [1] AIAG MSA 4th ed. (2010), chapter III-B, "Guidelines for determining stability" and
       "Guidelines for determining bias: control chart method" (Table III-B 3).
.. [2] ISO 7870-2:2013 (the charts and their limits, via :mod:`jingce.kernels.spc`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_float, as_int, as_probability, fail, one_of
from jingce.kernels.msa.constants import d2_star, d2_star_dof
from jingce.kernels.spc import imr, run_rules, xbar_r, xbar_s

__all__ = ["ControlChartBias", "StabilityResult", "control_chart_bias", "stability"]


@dataclass(frozen=True, slots=True)
class ControlChartBias:
    """Bias from a control chart of a master (AIAG control-chart method)."""

    bias: float
    sigma_r: float
    dof: float
    t: float
    p: float
    t_critical: float
    ci: tuple
    significant: bool


@dataclass(frozen=True, slots=True)
class StabilityResult:
    """Result of a stability study.

    ``chart`` is the SPC kernel's chart record; ``beyond_limits`` and ``rule_signals`` list the
    subgroup indices that signal; ``stable`` is true when none does.
    """

    chart_type: str
    chart: object
    stable: bool
    beyond_limits: np.ndarray
    rule_signals: np.ndarray
    rules: str
    repeatability: float
    bias: ControlChartBias | None
    pct_repeatability_tolerance: float | None
    reference: float | None


def _cc_bias_iv(grand_mean, r_bar, subgroup_size, n_subgroups, reference, confidence):
    return (as_float(grand_mean, "grand_mean"), as_float(r_bar, "r_bar", nonnegative=True),
            as_int(subgroup_size, "subgroup_size", lo=2, hi=100), as_int(n_subgroups, "n_subgroups", lo=1),
            as_float(reference, "reference"), as_probability(confidence, "confidence"))


def control_chart_bias(grand_mean, r_bar, subgroup_size, n_subgroups, reference, *, confidence=0.95):
    """Bias of a measurement system from an X-bar and R chart of a master (AIAG, Table III-B 3).

    Parameters
    ----------
    grand_mean : float
        Grand average of all readings.
    r_bar : float
        Average subgroup range.
    subgroup_size, n_subgroups : int
        ``m`` and ``g``.
    reference : float
        Reference value of the master.
    confidence : float
        Level of the two-sided interval.

    Returns
    -------
    ControlChartBias

    References
    ----------
    AIAG MSA 4th ed., chapter III-B, control chart method for bias, Table III-B 3.
    """
    gm, rb, m, g, ref, conf = _cc_bias_iv(grand_mean, r_bar, subgroup_size, n_subgroups, reference, confidence)
    sigma_r = rb / d2_star(m, g)
    dof = d2_star_dof(m, g)
    se = sigma_r / np.sqrt(g * m)
    bias = gm - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        t = bias / se
    tq = float(stats.t.isf((1 - conf) / 2, dof))
    p = float(2 * stats.t.sf(abs(t), dof)) if np.isfinite(t) else (0.0 if bias else float("nan"))
    return ControlChartBias(float(bias), float(sigma_r), float(dof), float(t), p, tq,
                            (float(bias - tq * se), float(bias + tq * se)), bool(p < 1 - conf))


def _stability_iv(readings, reference, chart, tolerance, rules, confidence):
    chart = one_of(chart, "chart", ("xbar_r", "xbar_s", "imr"))
    x = as_array(readings, "readings", ndim=1 if chart == "imr" else 2)
    if chart != "imr" and x.shape[0] < 2:
        raise fail("readings", f"needs at least 2 subgroups over time, got {x.shape[0]}")
    ref = as_float(reference, "reference", allow_none=True)
    tol = as_float(tolerance, "tolerance", positive=True, allow_none=True)
    if not isinstance(rules, str):
        raise fail("rules", "must be the name of a rule set ('nelson', 'western_electric' or 'none')")
    return x, ref, chart, tol, rules, as_probability(confidence, "confidence")


def stability(readings, reference=None, *, chart: str = "xbar_r", tolerance=None, rules: str = "western_electric",
              confidence: float = 0.95) -> StabilityResult:
    """Stability study of a measurement system on a master part.

    Parameters
    ----------
    readings : array_like
        ``(subgroups, readings per subgroup)`` in time order for ``xbar_r`` / ``xbar_s``; a 1-D series
        for ``imr``.
    reference : float, optional
        Reference value of the master (enables the bias estimate).
    chart : {"xbar_r", "xbar_s", "imr"}
        The control chart (from :mod:`jingce.kernels.spc`).
    tolerance : float, optional
        Tolerance for ``6 sigma_r / T`` in percent.
    rules : str
        Run-rule set applied to the location panel (``"western_electric"``, ``"nelson"``, ``"none"``).
    confidence : float
        Level of the bias interval.

    Returns
    -------
    StabilityResult

    References
    ----------
    AIAG MSA 4th ed., chapter III-B (stability; bias by the control chart method).
    """
    x, ref, kind, tol, rules, conf = _stability_iv(readings, reference, chart, tolerance, rules, confidence)
    if kind == "xbar_r":
        c = xbar_r(x)
        loc, spread = c.xbar, c.r
        m, g = x.shape[1], x.shape[0]
        sigma_r = c.r_bar / d2_star(m, g)
        center = c.grand_mean
    elif kind == "xbar_s":
        c = xbar_s(x)
        loc, spread = c.xbar, c.s
        m, g = x.shape[1], x.shape[0]
        sigma_r = c.sigma
        center = c.grand_mean
    else:
        c = imr(x)
        loc, spread = c.i, c.mr
        sigma_r = c.sigma
        center = c.mean
    beyond = np.union1d(loc.beyond, spread.beyond).astype(np.int64)
    sig = (loc.ucl - loc.center) / 3.0
    if rules != "none" and np.all(np.isfinite(sig)) and np.all(sig > 0):
        signals = run_rules(loc.statistic, loc.center, sig, rules=rules).points
        rule_pts = np.unique(np.concatenate([np.asarray(v, np.int64) for v in signals.values()] or [np.zeros(0, np.int64)]))
    else:
        rule_pts = np.zeros(0, np.int64)
    bias = None
    if ref is not None:
        if kind == "xbar_r":
            bias = control_chart_bias(center, c.r_bar, m, g, ref, confidence=conf)
        else:
            n = x.size
            dof = float(n - 1 if kind == "imr" else g * (m - 1))
            se = sigma_r / np.sqrt(n)
            b = center - ref
            with np.errstate(divide="ignore", invalid="ignore"):
                t = b / se
            tq = float(stats.t.isf((1 - conf) / 2, dof))
            p = float(2 * stats.t.sf(abs(t), dof)) if np.isfinite(t) else float("nan")
            bias = ControlChartBias(float(b), float(sigma_r), dof, float(t), p, tq, (float(b - tq * se), float(b + tq * se)),
                                    bool(p < 1 - conf))
    return StabilityResult(
        chart_type=kind, chart=c, stable=bool(beyond.size == 0 and rule_pts.size == 0), beyond_limits=beyond,
        rule_signals=rule_pts, rules=rules, repeatability=float(sigma_r), bias=bias,
        pct_repeatability_tolerance=100.0 * 6.0 * sigma_r / tol if tol else None, reference=ref,
    )
