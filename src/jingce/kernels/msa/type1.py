"""Type-1 gauge study: repeatability and bias of one gauge on one reference part.

Conventions (both VDA 5 and Bosch booklet 10 use them; all are parameters and reported back):

* ``Cg = (K/100 * T) / (L * s)`` and ``Cgk = (K/200 * T - |x_bar - x_m|) / (L/2 * s)`` with the
  percentage ``K = 20`` and the spread ``L = 6`` standard deviations (not the 5.15 s or 5.56 s some
  tools use without saying); required ``Cg, Cgk >= 1.33``.
* One-sided tolerances: with only ``usl`` (or ``lsl``) and a ``natural_limit`` (for example 0 for
  roundness) the tolerance is ``usl - natural_limit``. Without a natural limit ``Cg`` is undefined
  (NaN) and ``Cgk`` compares the distance from the reference to the one limit:
  ``Cgk = (K/100 * |limit - x_m| - (x_bar - x_m) * sign) / (L/2 * s)`` where ``sign`` points towards
  the limit (Bosch booklet 10, one-sided characteristics).
* Bias ``x_bar - x_m`` with a two-sided t test (``n - 1`` degrees of freedom) and its confidence
  interval; the resolution as a percentage of the tolerance (required <= 5 %).

References
----------
.. [1] Robert Bosch GmbH, *Booklet No. 10: Capability of Measurement and Test Processes* (2019),
       section 4.1 (type-1 study).
.. [2] VDA, *Band 5: Mess- und Prüfprozesse, Eignung, Planung und Management*, 2nd ed. (2010),
       section 4 (type-1 study / "Verfahren 1").
.. [3] AIAG MSA 4th ed. (2010), chapter III-B, "Guidelines for determining bias: independent sample
       method" (t statistic and interval of the bias, Table III-B 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from jingce.kernels._validation import as_array, as_float, as_probability, fail, warn

__all__ = ["Type1Result", "type1"]


@dataclass(frozen=True, slots=True)
class Type1Result:
    """Result of a type-1 gauge study (see the module docstring for the formulas)."""

    n: int
    reference: float
    mean: float
    s: float
    bias: float
    bias_t: float
    bias_p: float
    bias_ci: tuple
    bias_significant: bool
    tolerance: float
    lsl: float | None
    usl: float | None
    percentage: float
    span: float
    cg: float
    cgk: float
    capable: bool
    resolution: float | None
    pct_resolution: float | None
    pct_repeatability: float  # 100 * L * s / T
    pct_bias: float  # 100 * |bias| / T
    readings: np.ndarray
    limit_low: float  # run-chart limits: reference -/+ K/200 * T (one-sided: towards the limit)
    limit_high: float
    confidence: float
    notes: tuple


def _type1_iv(readings, reference, tolerance, lsl, usl, natural_limit, percentage, span, resolution, confidence):
    x = as_array(readings, "readings", ndim=1, min_size=2)
    ref = as_float(reference, "reference")
    pct = as_float(percentage, "percentage", positive=True, hi=100.0)
    span = as_float(span, "span", positive=True)
    conf = as_probability(confidence, "confidence")
    res = as_float(resolution, "resolution", positive=True, allow_none=True)
    lo = as_float(lsl, "lsl", allow_none=True)
    hi = as_float(usl, "usl", allow_none=True)
    nat = as_float(natural_limit, "natural_limit", allow_none=True)
    tol = as_float(tolerance, "tolerance", positive=True, allow_none=True)
    if lo is not None and hi is not None:
        if not lo < hi:
            raise fail("lsl", f"must be < usl, got lsl={lo} >= usl={hi}")
        if tol is not None and not np.isclose(tol, hi - lo):
            raise fail("tolerance", f"contradicts usl - lsl = {hi - lo}")
        tol = hi - lo
    elif nat is not None:
        if (lo is None) == (hi is None):
            raise fail("natural_limit", "needs exactly one of lsl or usl")
        other = hi if hi is not None else lo
        tol = abs(other - nat)
        if tol <= 0:
            raise fail("natural_limit", "must differ from the specification limit")
    if tol is None and lo is None and hi is None:
        raise fail("tolerance", "is required (or give lsl and/or usl)")
    return x, ref, tol, lo, hi, pct, span, res, conf


def type1(
    readings,
    reference,
    tolerance=None,
    *,
    lsl=None,
    usl=None,
    natural_limit=None,
    percentage: float = 20.0,
    span: float = 6.0,
    resolution=None,
    confidence: float = 0.95,
) -> Type1Result:
    """Type-1 gauge study (Cg, Cgk, bias t test).

    Parameters
    ----------
    readings : array_like, shape (n,)
        Repeated readings of one reference part (25 to 50 recommended), in measurement order.
    reference : float
        Reference (calibrated) value of the part, ``x_m``.
    tolerance : float, optional
        Tolerance width ``T > 0``; or give ``lsl`` and ``usl``.
    lsl, usl : float, optional
        Specification limits. With only one of them see ``natural_limit``.
    natural_limit : float, optional
        Natural bound of a one-sided characteristic (e.g. 0); ``T = |limit - natural_limit|``.
    percentage : float
        ``K``, the percentage of the tolerance available to the gauge (20).
    span : float
        ``L``, the number of standard deviations of the gauge spread (6).
    resolution : float, optional
        Display resolution; reported as % of T.
    confidence : float
        Level of the bias confidence interval.

    Returns
    -------
    Type1Result

    References
    ----------
    Bosch booklet 10 (2019), 4.1; VDA 5 (2010), 4; AIAG MSA 4th ed., Table III-B 2.
    """
    x, ref, tol, lo, hi, pct, span, res, conf = _type1_iv(
        readings, reference, tolerance, lsl, usl, natural_limit, percentage, span, resolution, confidence)
    n = x.size
    d = x - ref  # deviations from the reference (careful sums, see kernels/_sums.py)
    mean_d = float(d.mean())
    s = np.float64(np.sqrt(np.sum((d - mean_d) ** 2) / (n - 1)))  # numpy scalar: x / 0 gives inf, not an error
    bias = mean_d
    notes: list[str] = []
    se = s / np.sqrt(n)
    tq = float(stats.t.isf((1 - conf) / 2, n - 1))
    if s == 0:
        warn("readings have zero spread: Cg, Cgk and the bias t statistic are infinite or undefined")
        t = float("inf") * np.sign(bias) if bias else float("nan")
        p = 0.0 if bias else 1.0
    else:
        t = bias / se
        p = float(2 * stats.t.sf(abs(t), n - 1))
    ci = (bias - tq * se, bias + tq * se)
    one_sided = tol is None
    with np.errstate(divide="ignore", invalid="ignore"):
        if not one_sided:
            cg = (pct / 100.0 * tol) / (span * s)
            cgk = (pct / 200.0 * tol - abs(bias)) / (span / 2.0 * s)
            half = pct / 200.0 * tol
            low, high = ref - half, ref + half
            pct_rep = 100.0 * span * s / tol
            pct_bias = 100.0 * abs(bias) / tol
        else:
            limit = hi if hi is not None else lo
            sign = 1.0 if hi is not None else -1.0
            dist = abs(limit - ref)
            cg = float("nan")
            cgk = (pct / 100.0 * dist - sign * bias) / (span / 2.0 * s)
            low, high = (ref - np.inf, ref + pct / 100.0 * dist) if sign > 0 else (ref - pct / 100.0 * dist, np.inf)
            pct_rep = pct_bias = float("nan")
            notes.append("one-sided tolerance without a natural limit: Cg undefined, Cgk against the one limit")
    capable = bool((one_sided or cg >= 1.33) and cgk >= 1.33)
    pct_res = 100.0 * res / tol if (res is not None and tol) else None
    if pct_res is not None and pct_res > 5.0:
        notes.append(f"resolution is {pct_res:.3g} % of the tolerance (> 5 %)")
    if n < 25:
        notes.append(f"only {n} readings: at least 25 (better 50) are recommended")
    return Type1Result(
        n=n, reference=ref, mean=ref + mean_d, s=s, bias=bias, bias_t=float(t), bias_p=float(p),
        bias_ci=(float(ci[0]), float(ci[1])), bias_significant=bool(p < 1 - conf), tolerance=float(tol) if tol else float("nan"),
        lsl=lo, usl=hi, percentage=pct, span=span, cg=float(cg), cgk=float(cgk), capable=capable,
        resolution=res, pct_resolution=pct_res, pct_repeatability=float(pct_rep), pct_bias=float(pct_bias),
        readings=x, limit_low=float(low), limit_high=float(high), confidence=conf, notes=tuple(notes),
    )
