"""Streaming chart state for live data: each new value updates a characteristic in constant time.

:class:`LiveChart` is immutable; ``update`` returns the new state and what the new value did
(beyond a limit, which rules it completed). It keeps Welford sums of all values, the running
EWMA and CUSUM sums, the current subgroup's partial sums and the short history the run rules
need (at most the longest rule window), so memory and time per value are bounded.

References
----------
.. [1] B. P. Welford (1962), see :mod:`jingce.kernels._sums`.
.. [2] ISO 7870-2:2013 (limits), Nelson (1984) (rules), ISO 7870-4 / -6 (CUSUM, EWMA).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from jingce.kernels._sums import Welford
from jingce.kernels._validation import as_float, as_int, fail
from jingce.kernels.spc.constants import chart_constants
from jingce.kernels.spc.rules import evaluate, rule_set

__all__ = ["LiveChart", "LiveUpdate", "live_chart"]


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """What one value did.

    Attributes
    ----------
    point_completed : bool
        A plotted point (subgroup mean, or the individual) was completed by this value.
    statistic : float
        That point (NaN if none was completed).
    beyond : bool
        It is strictly beyond the control limits.
    rules : tuple of str
        Rules it completed.
    ewma, cusum_upper, cusum_lower : float
        Running EWMA and CUSUM sums after the point.
    """

    point_completed: bool
    statistic: float
    beyond: bool
    rules: tuple
    ewma: float
    cusum_upper: float
    cusum_lower: float


@dataclass(frozen=True, slots=True)
class LiveChart:
    """Frozen limits plus running state of one characteristic (see :func:`live_chart`)."""

    mu: float
    sigma: float
    subgroup_size: int
    k: float
    lam: float
    cusum_k: float
    cusum_h: float
    rules: tuple
    history: tuple = ()
    partial_count: int = 0
    partial_sum: float = 0.0
    ewma: float = float("nan")
    cusum_upper: float = 0.0
    cusum_lower: float = 0.0
    n_points: int = 0
    totals: Welford = field(default_factory=Welford)

    @property
    def se(self) -> float:
        return self.sigma / np.sqrt(self.subgroup_size)

    @property
    def lcl(self) -> float:
        return self.mu - self.k * self.se

    @property
    def ucl(self) -> float:
        return self.mu + self.k * self.se

    def update(self, value: float) -> tuple[LiveChart, LiveUpdate]:
        """Add one value; constant time (the rule history is bounded by the longest window)."""
        x = as_float(value, "value")
        totals = self.totals.update(x)
        cnt, ps = self.partial_count + 1, self.partial_sum + (x - self.mu)
        if cnt < self.subgroup_size:
            st = replace(self, partial_count=cnt, partial_sum=ps, totals=totals)
            return st, LiveUpdate(False, float("nan"), False, (), self.ewma, self.cusum_upper, self.cusum_lower)
        point = self.mu + ps / cnt
        z = float((point - self.mu) / self.se)
        prev = self.mu if np.isnan(self.ewma) else self.ewma
        ew = self.lam * point + (1 - self.lam) * prev
        cu = float(max(0.0, self.cusum_upper + z - self.cusum_k))
        cl = float(max(0.0, self.cusum_lower - z - self.cusum_k))
        window = max((int(r.m) for r in self.rules), default=1) + 1
        hist = (*self.history, z)[-window:]
        hz = np.asarray(hist)
        broken = ()
        if self.rules:
            flags = evaluate(hz, self.rules, np.zeros(hz.size, np.int64), "last")[:, -1]
            broken = tuple(r.name for r, f in zip(self.rules, flags, strict=True) if f)
        st = replace(self, history=hist, partial_count=0, partial_sum=0.0, ewma=ew, cusum_upper=cu, cusum_lower=cl,
                     n_points=self.n_points + 1, totals=totals)
        return st, LiveUpdate(True, float(point), bool(abs(z) > self.k), broken, ew, cu, cl)


def live_chart(mu, sigma, *, subgroup_size=1, k=3.0, lam=0.2, cusum_k=0.5, cusum_h=5.0, rules="nelson"):
    """Start the live state of one characteristic from frozen limits (phase II).

    Parameters
    ----------
    mu, sigma : float
        Centre and within sigma of single values (from a phase I chart or stored limits).
    subgroup_size : int
        Values per plotted point (1..25).
    k : float
        Shewhart limit width.
    lam : float
        EWMA weight.
    cusum_k, cusum_h : float
        CUSUM reference value and decision interval in standard errors of a plotted point.
    rules : str or sequence
        Run rules checked at each completed point.

    Returns
    -------
    LiveChart

    References
    ----------
    ISO 7870-2:2013; Montgomery (2009) sections 9.1-9.2.
    """
    mu = as_float(mu, "mu")
    sigma = as_float(sigma, "sigma", positive=True)
    n = as_int(subgroup_size, "subgroup_size", lo=1, hi=25)
    lam = as_float(lam, "lam")
    if not 0 < lam <= 1:
        raise fail("lam", f"must be in (0, 1], got {lam}")
    chart_constants(max(n, 2))
    rs = tuple(r for r in rule_set(rules) if r.enabled)
    return LiveChart(mu, sigma, n, as_float(k, "k", positive=True), lam,
                     as_float(cusum_k, "cusum_k", nonnegative=True), as_float(cusum_h, "cusum_h", positive=True), rs)
